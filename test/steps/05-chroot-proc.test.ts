import { describeBehaviour } from '../behaviour.ts';
import { describeIsolation } from '../isolation.ts';

describeIsolation('05-chroot-proc');
describeBehaviour('05-chroot-proc');
