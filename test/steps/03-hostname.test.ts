import { describeBehaviour } from '../behaviour.ts';
import { describeIsolation } from '../isolation.ts';

describeIsolation('03-hostname');
describeBehaviour('03-hostname');
