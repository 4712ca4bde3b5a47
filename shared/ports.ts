// `-p` as docker run reads it, pure text to values (the unit tests try it):
//   -p 8080:80   -p 8080:80/udp   -p 127.0.0.1:8080:80   -p 80 (a free host port)
type Protocol = 'tcp' | 'udp';

export interface PortMapping {
  hostIp: string; // "" for every address of the host
  hostPort: number; // 0: any free port, the runtime picks it
  containerPort: number;
  protocol: Protocol;
}

const port = (text: string | undefined) =>
  /^\d{1,5}$/.test(text ?? '') && Number(text) >= 1 && Number(text) <= 65535 ? Number(text) : undefined;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** "[HOSTIP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp]", or undefined when it is not one. */
export function parsePublish(text: string): PortMapping | undefined {
  const [ports = '', protocol = 'tcp', ...more] = text.split('/');
  if (more.length > 0 || (protocol !== 'tcp' && protocol !== 'udp')) return undefined;
  const parts = ports.split(':');
  if (parts.length > 3) return undefined;
  const containerPort = port(parts.at(-1));
  const hostPort = parts.length >= 2 ? port(parts.at(-2)) : 0;
  // 0.0.0.0 is every address, as docker reads it: no `ip daddr` in the rule (none has it)
  const hostIp = parts.length === 3 && parts[0] !== '0.0.0.0' ? parts[0]! : '';
  if (containerPort === undefined || hostPort === undefined || (hostIp !== '' && !IPV4.test(hostIp))) return undefined;
  return { hostIp, hostPort, containerPort, protocol };
}

/** "127.0.0.1:8080->80/tcp", as `docker ps` shows a published port. */
export const describePort = ({ hostIp, hostPort, containerPort, protocol }: PortMapping) =>
  `${hostIp || '0.0.0.0'}:${hostPort}->${containerPort}/${protocol}`;
