// ImageDecoder: every format, EXIF orientation, alpha, grey, CMYK and 16-bit inputs against PIL
// (transformers' load_image: exif_transpose + convert("RGB")), and the guards on bad input.
using System.Runtime.InteropServices;
using Furnace.Formats.Images;
using Furnace.Tests.Support;
using SkiaSharp;

namespace Furnace.Tests.Formats.Images;

public sealed class ImageDecoderTests
{
    // A non-square pattern so that any wrong rotation or flip shows.
    private static RgbImage Pattern(int w = 37, int h = 23)
    {
        var px = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                int i = (y * w + x) * 3;
                px[i] = (byte)(x * 255 / (w - 1));
                px[i + 1] = (byte)(y * 255 / (h - 1));
                px[i + 2] = (byte)((x * 7 + y * 13) % 256);
            }
        }
        return new RgbImage(w, h, px);
    }

    private static byte[] Encode(int w, int h, byte[] rgba, SKEncodedImageFormat format, int quality = 100)
    {
        using var bmp = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        Marshal.Copy(rgba, 0, bmp.GetPixels(), rgba.Length);
        using var img = SKImage.FromBitmap(bmp);
        using var data = img.Encode(format, quality);
        return data.ToArray();
    }

    private static byte[] Rgba(RgbImage im, byte alpha = 255)
    {
        var rgba = new byte[im.Width * im.Height * 4];
        for (int p = 0; p < im.Width * im.Height; p++)
        {
            rgba[p * 4] = im.Pixels[p * 3];
            rgba[p * 4 + 1] = im.Pixels[p * 3 + 1];
            rgba[p * 4 + 2] = im.Pixels[p * 3 + 2];
            rgba[p * 4 + 3] = alpha;
        }
        return rgba;
    }

    private static RgbImage PilDecode(TempDir dir, string path)
    {
        string @out = path + ".pil";
        var (w, h) = PilOracle.Run(dir.Path, [PilOracle.Job("decode", path, @out)])[0];
        return new RgbImage(w, h, File.ReadAllBytes(@out));
    }

    private static string PilMake(TempDir dir, string src, string name, string format, object? extra = null)
    {
        string @out = dir.File(name);
        var job = PilOracle.Job("make", src, @out, extra);
        job["format"] = format;
        PilOracle.Run(dir.Path, [job]);
        return @out;
    }

    private static string PatternPng(TempDir dir)
    {
        var p = Pattern();
        string path = dir.File("pattern.png");
        File.WriteAllBytes(path, Encode(p.Width, p.Height, Rgba(p), SKEncodedImageFormat.Png));
        return path;
    }

    [Fact]
    public void Png_Lossless_RoundTrips()
    {
        using var dir = new TempDir();
        RgbImage d = ImageDecoder.Load(PatternPng(dir));
        Assert.Equal(Pattern().Pixels, d.Pixels);
    }

    [Fact]
    public void WebpLossless_RoundTrips()
    {
        var p = Pattern();
        using var bmp = new SKBitmap(new SKImageInfo(p.Width, p.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        Marshal.Copy(Rgba(p), 0, bmp.GetPixels(), p.Width * p.Height * 4);
        using var pixmap = bmp.PeekPixels();
        using var data = pixmap!.Encode(new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossless, 100))!;
        RgbImage d = ImageDecoder.Decode(data.ToArray(), "x.webp");
        Assert.Equal(p.Pixels, d.Pixels);
    }

    [Theory]
    [InlineData("JPEG", "x.jpg")]
    [InlineData("BMP", "x.bmp")]
    [InlineData("GIF", "x.gif")]
    [InlineData("WEBP", "x.webp")]
    [InlineData("PNG", "x.png")]
    public void EachFormat_DecodesAsPilDoes(string format, string name)
    {
        using var dir = new TempDir();
        string path = PilMake(dir, PatternPng(dir), name, format);
        RgbImage ours = ImageDecoder.Load(path), pil = PilDecode(dir, path);
        Assert.Equal((pil.Width, pil.Height), (ours.Width, ours.Height));
        Assert.Equal(pil.Pixels, ours.Pixels);
    }

    [Fact]
    public void Gif_FirstFrameOnly()
    {
        using var dir = new TempDir();
        string path = dir.File("anim.gif");
        // two frames: red then blue
        Python($"from PIL import Image; a = Image.new('RGB', (4, 3), (255, 0, 0)); b = Image.new('RGB', (4, 3), (0, 0, 255)); a.save('{path}', save_all=True, append_images=[b])");
        RgbImage d = ImageDecoder.Load(path);
        Assert.Equal(RgbImage.Filled(4, 3, 255, 0, 0).Pixels, d.Pixels);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void ExifOrientation_AppliedAsPilExifTranspose(int orientation)
    {
        using var dir = new TempDir();
        string path = PilMake(dir, PatternPng(dir), $"o{orientation}.jpg", "JPEG", new { exif = orientation });
        RgbImage ours = ImageDecoder.Load(path), pil = PilDecode(dir, path);
        Assert.Equal((pil.Width, pil.Height), (ours.Width, ours.Height));
        Assert.Equal(orientation >= 5 ? (23, 37) : (37, 23), (ours.Width, ours.Height));
        Assert.Equal(pil.Pixels, ours.Pixels);
        RgbImage raw = ImageDecoder.Load(path, new ImageLoadOptions { ApplyExifOrientation = false });
        Assert.Equal((37, 23), (raw.Width, raw.Height));
    }

    [Fact]
    public void Alpha_DiscardedLikePilConvertRgb_OrCompositedOverWhite()
    {
        using var dir = new TempDir();
        // (200, 100, 50) at alpha 0, 128 and 255
        byte[] rgba = [200, 100, 50, 0, 200, 100, 50, 128, 200, 100, 50, 255];
        string path = dir.File("alpha.png");
        File.WriteAllBytes(path, Encode(3, 1, rgba, SKEncodedImageFormat.Png));
        RgbImage discard = ImageDecoder.Load(path);
        Assert.Equal(PilDecode(dir, path).Pixels, discard.Pixels);
        Assert.Equal([200, 100, 50, 200, 100, 50, 200, 100, 50], discard.Pixels);
        RgbImage white = ImageDecoder.Load(path, new ImageLoadOptions { Alpha = AlphaHandling.OverWhite });
        Assert.Equal([255, 255, 255, 227, 177, 152, 200, 100, 50], white.Pixels);
    }

    [Theory]
    [InlineData("L", "PNG", "g.png")]
    [InlineData("L", "JPEG", "g.jpg")]
    [InlineData("LA", "PNG", "la.png")]
    [InlineData("P", "PNG", "p.png")]
    public void GreyAndPalette_ExpandToRgbAsPil(string mode, string format, string name)
    {
        using var dir = new TempDir();
        string path = PilMake(dir, PatternPng(dir), name, format, new { mode });
        RgbImage ours = ImageDecoder.Load(path), pil = PilDecode(dir, path);
        Assert.Equal(pil.Pixels, ours.Pixels);
    }

    [Fact]
    public void CmykJpeg_CloseToPil()
    {
        using var dir = new TempDir();
        string path = PilMake(dir, PatternPng(dir), "c.jpg", "JPEG", new { mode = "CMYK" });
        RgbImage ours = ImageDecoder.Load(path), pil = PilDecode(dir, path);
        int max = ours.Pixels.Zip(pil.Pixels).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(max <= 2, $"CMYK JPEG differs from PIL by up to {max}");
    }

    [Fact]
    public void SixteenBitGreyPng_ScaledTo8Bit()
    {
        // PIL opens this as mode "I" and convert("RGB") clips every value above 255 to white; we scale instead.
        using var dir = new TempDir();
        string path = dir.File("g16.png");
        Python($"import numpy as np; from PIL import Image; Image.fromarray(np.array([[0, 65535, 0x8080, 0x1234, 0xABCD, 0x7F7F]], dtype=np.uint16)).save('{path}')");
        RgbImage d = ImageDecoder.Load(path);
        Assert.Equal(6, d.Width);
        Assert.Equal(new byte[] { 0x00, 0xFF, 0x80, 0x12, 0xAB, 0x7F }, d.Pixels.Where((_, i) => i % 3 == 0).ToArray());
    }

    private static void Python(string code)
    {
        PilOracle.Require();
        var psi = new System.Diagnostics.ProcessStartInfo(PilOracle.Python) { UseShellExecute = false, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(code);
        using var p = System.Diagnostics.Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, err);
    }

    [Theory]
    [InlineData("jpg")]
    [InlineData("png")]
    public void Truncated_IsAFormatErrorNamingTheFile(string ext)
    {
        using var dir = new TempDir();
        byte[] full = ext == "jpg"
            ? File.ReadAllBytes(SharedPaths.CocoPhotos()[0])
            : Encode(200, 200, Rgba(PilNoise(200, 200)), SKEncodedImageFormat.Png);
        string path = dir.File("cut." + ext);
        File.WriteAllBytes(path, full[..(full.Length / 2)]);
        var e = Assert.Throws<FurnaceFormatException>(() => ImageDecoder.Load(path));
        Assert.Equal(path, e.Path);
        Assert.Contains("truncated", e.Message);
    }

    private static RgbImage PilNoise(int w, int h)
    {
        var px = new byte[w * h * 3];
        new Random(7).NextBytes(px);
        return new RgbImage(w, h, px);
    }

    [Fact]
    public void RandomBytes_NotAnImage()
    {
        using var dir = new TempDir();
        var junk = new byte[4096];
        new Random(1).NextBytes(junk);
        string path = dir.File("junk.jpg");
        File.WriteAllBytes(path, junk);
        var e = Assert.Throws<FurnaceFormatException>(() => ImageDecoder.Load(path));
        Assert.Equal($"{path}: not a supported image (JPEG, PNG, WebP, GIF or BMP)", e.Message);
    }

    [Fact]
    public void EmptyFile_And_MissingFile()
    {
        using var dir = new TempDir();
        string path = dir.File("empty.png");
        File.WriteAllBytes(path, []);
        Assert.Equal($"{path}: is empty, not an image", Assert.Throws<FurnaceFormatException>(() => ImageDecoder.Load(path)).Message);
        Assert.Equal($"{dir.File("nope.png")}: no such file", Assert.Throws<FurnaceException>(() => ImageDecoder.Load(dir.File("nope.png"))).Message);
    }

    [Fact]
    public void PixelLimit_CheckedFromTheHeader()
    {
        var e = Assert.Throws<FurnaceFormatException>(() =>
            ImageDecoder.Load(SharedPaths.CocoPhotos()[0], new ImageLoadOptions { MaxPixels = 100_000 }));
        Assert.Contains("more than the limit of 100,000", e.Message);

        // A decompression bomb: a PNG header announcing 100000 x 100000 pixels over a few bytes of data.
        byte[] png = Encode(1, 1, [1, 2, 3, 255], SKEncodedImageFormat.Png);
        BinaryPrimitivesWriteIhdrSize(png, 100_000, 100_000);
        var bomb = Assert.Throws<FurnaceFormatException>(() => ImageDecoder.Decode(png, "bomb.png"));
        Assert.Equal("bomb.png: PNG image is 100000x100000 = 10,000,000,000 pixels, more than the limit of 89,478,485 (a decompression bomb?)", bomb.Message);
    }

    // IHDR is the first chunk: 8-byte signature, length, "IHDR", width, height, …, CRC over type + data.
    private static void BinaryPrimitivesWriteIhdrSize(byte[] png, int w, int h)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), w);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), h);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(29), Crc32(png.AsSpan(12, 17)));
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }

    [Fact]
    public void DataUrl_DecodesAndRejectsNonImages()
    {
        var p = Pattern();
        byte[] png = Encode(p.Width, p.Height, Rgba(p), SKEncodedImageFormat.Png);
        string url = "data:image/png;base64," + Convert.ToBase64String(png);
        Assert.Equal(p.Pixels, ImageDecoder.DecodeDataUrl(url).Pixels);

        Assert.Contains("media type 'image/tiff' is not an image type Furnace reads",
            Assert.Throws<FurnaceFormatException>(() => ImageDecoder.DecodeDataUrl("data:image/tiff;base64,AAAA")).Message);
        Assert.Contains("not base64-encoded",
            Assert.Throws<FurnaceFormatException>(() => ImageDecoder.DecodeDataUrl("data:image/png,abc")).Message);
        Assert.Contains("not valid base64",
            Assert.Throws<FurnaceFormatException>(() => ImageDecoder.DecodeDataUrl("data:image/png;base64,@@@")).Message);
        Assert.StartsWith("data:image/jpeg URL: not a supported image",
            Assert.Throws<FurnaceFormatException>(() => ImageDecoder.DecodeDataUrl("data:image/jpeg;base64,AAAAAAAA")).Message);
    }

    [Fact]
    public void Stream_SameAsBytes()
    {
        byte[] jpg = File.ReadAllBytes(SharedPaths.CocoPhotos()[1]);
        using var s = new MemoryStream(jpg);
        Assert.Equal(ImageDecoder.Decode(jpg, "a").Pixels, ImageDecoder.Decode(s, "b").Pixels);
    }

    [Fact]
    public void Orientation_AllEightAreDistinctTransposes()
    {
        var p = Pattern(5, 3);
        var outs = Enumerable.Range(1, 8).Select(o => ImageOrientation.Apply(p, o)).ToArray();
        Assert.Equal(8, outs.Select(o => Convert.ToBase64String(o.Pixels) + o.Width).Distinct().Count());
        // 6 (rotate 90° clockwise): the bottom-left source pixel lands top-left
        Assert.Equal(p.Pixels.AsSpan((2 * 5 + 0) * 3, 3).ToArray(), outs[5].Pixels[..3]);
    }
}
