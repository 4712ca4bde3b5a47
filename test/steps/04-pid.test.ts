import { describeBehaviour } from '../behaviour.ts';
import { describeIsolation } from '../isolation.ts';

describeIsolation('04-pid');
describeBehaviour('04-pid');
