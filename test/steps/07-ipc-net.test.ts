import { describeBehaviour } from '../behaviour.ts';
import { describeIsolation } from '../isolation.ts';

describeIsolation('07-ipc-net');
describeBehaviour('07-ipc-net');
