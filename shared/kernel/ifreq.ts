// struct ifreq, the argument of the ioctl(2)s that read and set a network interface's
// settings (see netdevice(7)): the interface's name, then a union: its flags, or its
// IPv4 address (a struct sockaddr_in: family, port, then the 4 bytes).
//   struct ifreq { char ifr_name[IFNAMSIZ]; union { short ifr_flags; ... }; };  /* 40 bytes */
const IFNAMSIZ = 16;

export class InterfaceRequest {
  readonly buffer = Buffer.alloc(40);

  constructor(name: string) {
    this.buffer.write(name, 0, IFNAMSIZ - 1); // the rest stays 0: the name's terminating NUL
  }

  get flags(): number {
    return this.buffer.readUInt16LE(IFNAMSIZ);
  }

  set flags(flags: number) {
    this.buffer.writeUInt16LE(flags, IFNAMSIZ);
  }

  /** After SIOCGIFADDR: "10.201.0.1". */
  get address(): string {
    return [...this.buffer.subarray(IFNAMSIZ + 4, IFNAMSIZ + 8)].join('.');
  }
}
