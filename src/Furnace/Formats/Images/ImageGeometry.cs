// The non-resampling geometry of HF preprocessing on RgbImage: LLaVA's expand2square (= transformers'
// LlavaImageProcessor.pad_to_square) and transformers' image_transforms.center_crop, including its zero padding
// when the crop is larger than the image.
namespace Furnace.Formats.Images;

public static class ImageGeometry
{
    /// <summary>Pads the shorter side to a square of <paramref name="fill"/>, the image centred with offset
    /// (side − short) // 2.</summary>
    public static RgbImage ExpandToSquare(RgbImage src, ReadOnlySpan<byte> fill)
    {
        if (src.Width == src.Height) return src;
        int side = Math.Max(src.Width, src.Height);
        int left = src.Width < side ? (side - src.Width) / 2 : 0;
        int top = src.Height < side ? (side - src.Height) / 2 : 0;
        var dst = new byte[(long)side * side * 3];
        for (int i = 0; i < dst.Length; i += 3)
        {
            dst[i] = fill[0];
            dst[i + 1] = fill[1];
            dst[i + 2] = fill[2];
        }
        for (int y = 0; y < src.Height; y++)
            src.Pixels.AsSpan(y * src.Stride, src.Stride).CopyTo(dst.AsSpan(((top + y) * side + left) * 3));
        return new RgbImage(side, side, dst);
    }

    /// <summary>Crops height × width around the centre: top = (H − h) // 2, left = (W − w) // 2 (floor division);
    /// where the crop leaves the image the missing pixels are 0, as transformers pads them.</summary>
    public static RgbImage CenterCrop(RgbImage src, int height, int width)
    {
        if (height == src.Height && width == src.Width) return src;
        int top = FloorDiv2(src.Height - height), left = FloorDiv2(src.Width - width);
        if (top >= 0 && left >= 0)
        {
            var dst = new byte[(long)height * width * 3];
            for (int y = 0; y < height; y++)
                src.Pixels.AsSpan(((top + y) * src.Width + left) * 3, width * 3).CopyTo(dst.AsSpan(y * width * 3));
            return new RgbImage(width, height, dst);
        }
        // transformers: pad to (max(h, H), max(w, W)) with the image at ceil((new − old) / 2), then crop.
        int newH = Math.Max(height, src.Height), newW = Math.Max(width, src.Width);
        int padTop = (newH - src.Height + 1) / 2, padLeft = (newW - src.Width + 1) / 2;
        top += padTop;
        left += padLeft;
        int y0 = Math.Max(0, top), y1 = Math.Min(newH, top + height);
        int x0 = Math.Max(0, left), x1 = Math.Min(newW, left + width);
        int outH = y1 - y0, outW = x1 - x0;
        var res = new byte[(long)outH * outW * 3];
        for (int y = 0; y < outH; y++)
        {
            int sy = y0 + y - padTop;
            if (sy < 0 || sy >= src.Height) continue;
            for (int x = 0; x < outW; x++)
            {
                int sx = x0 + x - padLeft;
                if (sx < 0 || sx >= src.Width) continue;
                src.Pixels.AsSpan((sy * src.Width + sx) * 3, 3).CopyTo(res.AsSpan((y * outW + x) * 3));
            }
        }
        return new RgbImage(outW, outH, res);
    }

    private static int FloorDiv2(int v) => (int)Math.Floor(v / 2.0);
}
