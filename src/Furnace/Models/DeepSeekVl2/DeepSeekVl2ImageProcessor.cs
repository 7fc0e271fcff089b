// DeepSeek-VL2's image processing (DeepseekVLV2Processor.tokenize_with_images, processing_deepseek_vl_v2.py at
// DeepSeek-VL2 ef9f91e), PIL-exact: the global view is ImageOps.pad(image, (S, S), color=mean colour) (bicubic
// contain, centred); the local view is ImageOps.pad(image, best candidate) cut into S × S tiles row by row; every view
// goes through ToTensor + Normalize (float32 v / 255, then (x − mean) / std with float32 mean/std).
using Furnace.Formats.Images;

namespace Furnace.Models.DeepSeekVl2;

/// <summary>One image's views in the order the tower encodes them: Views[0] the global view, then the tiles
/// row-major over the grid.</summary>
public sealed record DeepSeekVl2ImageViews(PixelValues[] Views, DeepSeekVl2TileGrid Grid);

public sealed class DeepSeekVl2ImageProcessor
{
    private readonly float[][] _lut;

    public DeepSeekVl2ImageProcessor(DeepSeekVl2ProcessorConfig config)
    {
        Config = config ?? throw new ArgumentNullException(nameof(config));
        _lut = new float[3][];
        for (int c = 0; c < 3; c++)
        {
            _lut[c] = new float[256];
            float mean = (float)config.ImageMean[c], std = (float)config.ImageStd[c];
            for (int v = 0; v < 256; v++)
            {
                float x = v / 255f;
                _lut[c][v] = config.Normalize ? (x - mean) / std : x;
            }
        }
    }

    public DeepSeekVl2ProcessorConfig Config { get; }

    /// <summary>The 8-bit global view and tile canvas (before ToTensor), for inspection and tests.</summary>
    public (RgbImage Global, RgbImage Local, DeepSeekVl2TileGrid Grid) Geometry(RgbImage image, bool cropping)
    {
        ArgumentNullException.ThrowIfNull(image);
        int s = Config.ImageSize;
        byte[] fill = Config.PadColor;
        var (cw, ch) = PilImageOps.ContainSize(image.Width, image.Height, s, s);
        if (cw <= 0 || ch <= 0)
            throw new FurnaceException($"image {image.Width}x{image.Height} is beyond DeepSeek-VL2's tiling limits: its global view would be {cw}x{ch} pixels (aspect ratio too extreme)");
        var grid = DeepSeekVl2Tiling.Grid(image.Width, image.Height, Config, cropping);
        var (lw, lh) = PilImageOps.ContainSize(image.Width, image.Height, grid.Width, grid.Height);
        if (lw <= 0 || lh <= 0)
            throw new FurnaceException($"image {image.Width}x{image.Height} is beyond DeepSeek-VL2's tiling limits: on its {grid.Width}x{grid.Height} canvas it would be {lw}x{lh} pixels");
        RgbImage global = PilImageOps.Pad(image, s, s, fill);
        RgbImage local = grid.Width == s && grid.Height == s ? global : PilImageOps.Pad(image, grid.Width, grid.Height, fill);
        return (global, local, grid);
    }

    /// <summary>The global view and the local tiles of one image; cropping = the prompt holds at most two images.</summary>
    public DeepSeekVl2ImageViews Process(RgbImage image, bool cropping)
    {
        var (global, local, grid) = Geometry(image, cropping);
        int s = Config.ImageSize;
        var views = new PixelValues[grid.Views];
        views[0] = ToPixels(global);
        for (int ty = 0, k = 1; ty < grid.TilesHigh; ty++)
            for (int tx = 0; tx < grid.TilesWide; tx++, k++)
                views[k] = ToPixels(PilImageOps.Crop(local, tx * s, ty * s, s, s));
        return new DeepSeekVl2ImageViews(views, grid);
    }

    /// <summary>The images of one prompt: tiled only when there are at most two of them, as the processor does.</summary>
    public DeepSeekVl2ImageViews[] ProcessAll(IReadOnlyList<RgbImage> images)
    {
        bool cropping = DeepSeekVl2Tiling.Cropping(images.Count);
        var r = new DeepSeekVl2ImageViews[images.Count];
        for (int i = 0; i < r.Length; i++) r[i] = Process(images[i], cropping);
        return r;
    }

    private PixelValues ToPixels(RgbImage view)
    {
        int plane = view.Width * view.Height;
        var data = new float[3 * plane];
        byte[] px = view.Pixels;
        for (int c = 0; c < 3; c++)
        {
            float[] lut = _lut[c];
            Span<float> dst = data.AsSpan(c * plane, plane);
            for (int i = 0; i < plane; i++) dst[i] = lut[px[i * 3 + c]];
        }
        return new PixelValues(3, view.Height, view.Width, data);
    }
}
