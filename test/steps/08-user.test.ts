import { describeBehaviour } from '../behaviour.ts';
import { describeIsolation } from '../isolation.ts';

describeIsolation('08-user');
describeBehaviour('08-user');
