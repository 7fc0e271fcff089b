// The per-output-pixel convolution weights of one resize axis, in PIL's 8-bit fixed point.
// Mirrors Pillow's libImaging/Resample.c (precompute_coeffs + normalize_coeffs_8bpc; read from Pillow main, verified
// byte-exact against Debian 12's Pillow 9.4):
// the filter support is widened by the downscale factor (antialiasing), taps are centred at
// in0 + (i + 0.5)·scale, the window [xmin, xmax) is rounded with (int)(v + 0.5), weights are normalised to
// sum 1 in double and then rounded half away from zero to PRECISION_BITS = 22 fractional bits.
namespace Furnace.Formats.Images;

internal sealed class ResampleCoefficients
{
    public const int PrecisionBits = 32 - 8 - 2;

    private ResampleCoefficients(int outSize, int kernelSize, int[] first, int[] count, int[] weights)
    {
        OutSize = outSize;
        KernelSize = kernelSize;
        First = first;
        Count = count;
        Weights = weights;
    }

    public int OutSize { get; }

    /// <summary>Row stride of Weights: the most taps any output pixel can have.</summary>
    public int KernelSize { get; }

    /// <summary>First input index used by output i.</summary>
    public int[] First { get; }

    /// <summary>Number of input indices used by output i.</summary>
    public int[] Count { get; }

    /// <summary>(OutSize, KernelSize) fixed-point weights; unused tail entries are 0.</summary>
    public int[] Weights { get; }

    public static ResampleCoefficients Compute(int inSize, int outSize, ResampleFilter filter)
    {
        double[] normalized = Normalized(inSize, outSize, filter, out int ksize, out int[] first, out int[] count);
        var weights = new int[normalized.Length];
        for (int i = 0; i < normalized.Length; i++)
        {
            double v = normalized[i];
            weights[i] = v < 0 ? (int)(-0.5 + v * (1 << PrecisionBits)) : (int)(0.5 + v * (1 << PrecisionBits));
        }
        return new ResampleCoefficients(outSize, ksize, first, count, weights);
    }

    /// <summary>
    /// The taps before fixed-point rounding: (outSize, kernelSize) weights normalised to sum 1 in double, with each
    /// output's first input index and tap count. PyTorch's antialiased interpolate (aten _upsample_*_aa,
    /// _compute_indices_weights_aa) uses the same window and normalisation in floating point.
    /// </summary>
    public static double[] Normalized(int inSize, int outSize, ResampleFilter filter, out int kernelSize, out int[] first, out int[] count)
    {
        double filterSupport = Support(filter);
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = filterSupport * filterScale;
        int ksize = (int)Math.Ceiling(support) * 2 + 1;
        first = new int[outSize];
        count = new int[outSize];
        var weights = new double[outSize * ksize];
        var k = new double[ksize];
        double ss = 1.0 / filterScale;
        for (int i = 0; i < outSize; i++)
        {
            double center = (i + 0.5) * scale;
            int xmin = Math.Max((int)(center - support + 0.5), 0);
            int xmax = Math.Min((int)(center + support + 0.5), inSize) - xmin;
            double sum = 0.0;
            for (int x = 0; x < xmax; x++)
            {
                double w = Evaluate(filter, (x + xmin - center + 0.5) * ss);
                k[x] = w;
                sum += w;
            }
            for (int x = 0; x < xmax; x++) weights[i * ksize + x] = sum != 0.0 ? k[x] / sum : k[x];
            first[i] = xmin;
            count[i] = Math.Max(xmax, 0);
        }
        kernelSize = ksize;
        return weights;
    }

    private static double Support(ResampleFilter filter) => filter switch
    {
        ResampleFilter.Box => 0.5,
        ResampleFilter.Bilinear or ResampleFilter.Hamming => 1.0,
        ResampleFilter.Bicubic => 2.0,
        ResampleFilter.Lanczos => 3.0,
        _ => throw new FurnaceException($"resample filter {filter} is not supported (Bicubic, Bilinear, Lanczos, Box, Hamming)"),
    };

    // The filter kernels exactly as Resample.c evaluates them in double (operation order matters for ties).
    private static double Evaluate(ResampleFilter filter, double x)
    {
        switch (filter)
        {
            case ResampleFilter.Bicubic:
                const double a = -0.5;
                if (x < 0.0) x = -x;
                if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
                if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
                return 0.0;
            case ResampleFilter.Bilinear:
                if (x < 0.0) x = -x;
                return x < 1.0 ? 1.0 - x : 0.0;
            case ResampleFilter.Box:
                return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
            case ResampleFilter.Hamming:
                if (x < 0.0) x = -x;
                if (x == 0.0) return 1.0;
                if (x >= 1.0) return 0.0;
                x *= Math.PI;
                return Math.Sin(x) / x * ((double)0.54f + (double)0.46f * Math.Cos(x));
            case ResampleFilter.Lanczos:
                return x is >= -3.0 and < 3.0 ? Sinc(x) * Sinc(x / 3) : 0.0;
            default:
                throw new ArgumentOutOfRangeException(nameof(filter));
        }
    }

    private static double Sinc(double x)
    {
        if (x == 0.0) return 1.0;
        x *= Math.PI;
        return Math.Sin(x) / x;
    }
}
