import { describeBehaviour } from '../behaviour.ts';
import { describeIsolation } from '../isolation.ts';

describeIsolation('01-run');
describeBehaviour('01-run');
