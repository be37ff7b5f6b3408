/** The config most load-balancer tests start from: three TCP backends, a UDP service, IPv6, an empty service. */
export const CONFIG = `[FerryLb]
ServiceRange = 10.96.0.0/16, fd00:96::/112
SnatAddress = 10.96.255.254, fd00:96::fffe
SnatPorts = 40000-40999
ConntrackMax = 1024
[FerryService]
Name = web
Address = 10.96.0.10:80
Backend = 10.0.1.2:8080
Backend = 10.0.2.2:8080
Backend = 10.0.3.2:8080
[FerryService]
Name = dns
Address = 10.96.0.53:53
Protocol = udp
Backend = 10.0.1.2:5353
Backend = 10.0.2.2:5353
[FerryService]
Name = web6
Address = [fd00:96::10]:80
Backend = [fd00:1::2]:8080
[FerryService]
Name = empty
Address = 10.96.0.99:80
`;
