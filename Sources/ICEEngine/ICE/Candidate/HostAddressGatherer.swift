import NIOCore
import NIOPosix
import STUN

/// Lists the local addresses that may carry host candidates.
public enum HostAddressGatherer {
    /// One entry per usable (interface, address), de-duplicated, in interface order.
    public static func addresses(filter: HostCandidateFilter) throws -> [(interface: String, address: IPAddress)] {
        var seen = Set<IPAddress>()
        var out: [(interface: String, address: IPAddress)] = []
        for device in try System.enumerateDevices() {
            guard let socketAddress = device.address, let text = socketAddress.ipAddress,
                  let ip = IPAddress(text), filter.allows(interface: device.name, address: ip),
                  seen.insert(ip).inserted else { continue }
            out.append((device.name, ip))
        }
        return out
    }
}
