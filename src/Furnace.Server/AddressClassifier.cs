// The SSRF guard's core: whether an IP address is a public unicast address a server may fetch from. Everything
// special-purpose is refused — loopback, private (RFC 1918, fc00::/7), link-local (169.254/16 with cloud metadata
// endpoints, fe80::/10), carrier-grade NAT, "this network", multicast, broadcast, documentation and benchmark ranges
// — and IPv4-mapped/compatible IPv6 forms are judged by the IPv4 address inside (RFC 6890 special-purpose registries).
using System.Net;
using System.Net.Sockets;

namespace Furnace.Server;

public static class AddressClassifier
{
    public static bool IsPublic(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6) return IsPublicV4(address.MapToIPv4().GetAddressBytes());
        return address.AddressFamily switch
        {
            AddressFamily.InterNetwork => IsPublicV4(address.GetAddressBytes()),
            AddressFamily.InterNetworkV6 => IsPublicV6(address),
            _ => false,
        };
    }

    private static bool IsPublicV4(byte[] b)
    {
        byte a = b[0], c = b[1];
        if (a == 0) return false; // "this network" 0/8
        if (a == 10) return false; // private
        if (a == 100 && c is >= 64 and <= 127) return false; // carrier-grade NAT 100.64/10
        if (a == 127) return false; // loopback
        if (a == 169 && c == 254) return false; // link-local, cloud metadata
        if (a == 172 && c is >= 16 and <= 31) return false; // private
        if (a == 192 && c == 0 && b[2] is 0 or 2) return false; // IETF protocol assignments, TEST-NET-1
        if (a == 192 && c == 88 && b[2] == 99) return false; // 6to4 relay anycast
        if (a == 192 && c == 168) return false; // private
        if (a == 198 && c is 18 or 19) return false; // benchmarking
        if (a == 198 && c == 51 && b[2] == 100) return false; // TEST-NET-2
        if (a == 203 && c == 0 && b[2] == 113) return false; // TEST-NET-3
        if (a >= 224) return false; // multicast 224/4, reserved 240/4, broadcast
        return true;
    }

    private static bool IsPublicV6(IPAddress address)
    {
        byte[] b = address.GetAddressBytes();
        if (address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6Loopback)) return false;
        if (address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast) return false;
        if ((b[0] & 0xFE) == 0xFC) return false; // unique local fc00::/7
        if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return false; // fe80::/10 (also caught above)
        if (b[0] == 0xFF) return false; // multicast
        // ::/96 IPv4-compatible and ::ffff:0:0/96 mapped (handled by the caller), 64:ff9b::/96 NAT64: judge the IPv4 inside
        bool zeroPrefix = b.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0;
        if (zeroPrefix) return IsPublicV4(b[12..]);
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B) return IsPublicV4(b[12..]);
        if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8) return false; // documentation 2001:db8::/32
        if (b[0] == 0x20 && b[1] == 0x02) return IsPublicV4(b[2..6]); // 6to4 2002::/16 embeds an IPv4 address
        if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00) return false; // Teredo 2001::/32
        return (b[0] & 0xE0) == 0x20; // global unicast 2000::/3 only
    }
}
