// ImageThumbnail: the longer side is scaled to the limit with the aspect ratio kept (never enlarged), and the JPEG
// data URL decodes back to an image of that size and roughly those colours.
using Furnace.Formats.Images;

namespace Furnace.Tests.Formats.Images;

public sealed class ImageThumbnailTests
{
    [Fact]
    public void Create_KeepsAspect_NeverEnlarges()
    {
        var wide = RgbImage.Filled(640, 480, 10, 200, 30);
        var t = ImageThumbnail.Create(wide, 128);
        Assert.Equal((128, 96), (t.Width, t.Height));
        var small = RgbImage.Filled(40, 30, 1, 2, 3);
        Assert.Same(small, ImageThumbnail.Create(small, 128));
    }

    [Fact]
    public void JpegDataUrl_DecodesBack()
    {
        var image = RgbImage.Filled(300, 600, 200, 40, 90);
        string url = ImageThumbnail.JpegDataUrl(image, 100);
        Assert.StartsWith("data:image/jpeg;base64,", url);
        var back = ImageDecoder.DecodeDataUrl(url);
        Assert.Equal((50, 100), (back.Width, back.Height));
        Assert.InRange(back.Pixels[0], 190, 210);
        Assert.InRange(back.Pixels[1], 30, 50);
        Assert.InRange(back.Pixels[2], 80, 100);
    }
}
