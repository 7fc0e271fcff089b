using Furnace.Generation;

namespace Furnace.Tests.Generation;

public sealed class StopStringFilterTests
{
    [Fact]
    public void Push_StopStringAcrossPieces_NeverEmitsIt()
    {
        var f = new StopStringFilter(["</answer>"]);
        string emitted = f.Push("The cat</an") + f.Push("swer> and more");
        Assert.True(f.Stopped);
        Assert.Equal("The cat", emitted);
    }

    [Fact]
    public void Push_PrefixThatIsNotAStop_IsReleasedLater()
    {
        var f = new StopStringFilter(["\nUser:"]);
        Assert.Equal("a", f.Push("a\nUs"));
        Assert.Equal("\nUsb", f.Push("b"));
        Assert.False(f.Stopped);
        Assert.Equal("", f.Flush());
    }

    [Fact]
    public void Flush_HeldBackTextAtEnd_IsReturned()
    {
        var f = new StopStringFilter(["STOP"]);
        Assert.Equal("x", f.Push("xST"));
        Assert.Equal("ST", f.Flush());
    }

    [Fact]
    public void Push_NoStops_PassesThrough()
    {
        var f = new StopStringFilter([]);
        Assert.Equal("abc", f.Push("abc"));
    }
}
