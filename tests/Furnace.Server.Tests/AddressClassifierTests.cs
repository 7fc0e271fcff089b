// The SSRF guard's address classifier: only public unicast addresses may be fetched from; every special-purpose range
// (and its IPv4-mapped / NAT64 / 6to4 disguise) is refused. Also the allow-list's host matching.
using System.Net;

namespace Furnace.Server.Tests;

public sealed class AddressClassifierTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.255.0.9")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("198.18.0.1")]
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("fc00::1")]
    [InlineData("fd12:3456::1")]
    [InlineData("ff02::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("64:ff9b::a00:1")]
    [InlineData("2002:7f00:1::")]
    [InlineData("2001:db8::1")]
    public void IsPublic_SpecialPurposeAddress_False(string address) => Assert.False(AddressClassifier.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("1.1.1.1")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    public void IsPublic_PublicAddress_True(string address) => Assert.True(AddressClassifier.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("images.example", true)]
    [InlineData("IMAGES.example", true)]
    [InlineData("cdn.photos.example", true)]
    [InlineData("photos.example", false)]
    [InlineData("evilphotos.example", false)]
    [InlineData("images.example.evil", false)]
    public void IsAllowedHost_ExactOrWildcard(string host, bool allowed) =>
        Assert.Equal(allowed, ImageFetcher.IsAllowedHost(host, ["images.example", "*.photos.example"]));
}
