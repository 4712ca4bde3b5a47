import { describeBehaviour } from '../behaviour.ts';
import { describeIsolation } from '../isolation.ts';

describeIsolation('06-mount-ns');
describeBehaviour('06-mount-ns');
