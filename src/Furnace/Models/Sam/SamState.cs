// Activation buffers of one SAM tower forward (llama2.c's RunState), sized once from the config so that encoding an
// image allocates nothing but its result. Token maps are channels-last: row y·side + x holds that pixel's channels.
namespace Furnace.Models.Sam;

public sealed class SamState
{
    public SamState(SamVitConfig c)
    {
        long t = (long)c.Grid * c.Grid, w = c.Width;
        Pixels = new float[3L * c.ImageSize * c.ImageSize];
        X = new float[t * w];
        XNorm = new float[t * w];
        Qkv = new float[t * 3 * w];
        Attn = new float[t * w];
        Proj = new float[t * w];
        Hidden = new float[t * c.MlpDim];
        Global = new float[t * w];
        Neck1 = new float[t * c.OutChans];
        Neck2 = new float[t * c.OutChans];
        Resized = new float[(long)c.NeckResize * c.NeckResize * c.OutChans];
        long down = 0;
        int side = c.NeckResize;
        foreach (int ch in c.DownsampleChannels)
        {
            side = (side - 1) / 2 + 1;
            down = Math.Max(down, (long)side * side * ch);
        }
        DownA = new float[down];
        DownB = new float[down];
    }

    public float[] Pixels { get; }  // (3, S, S) after image_norm
    public float[] X { get; }       // (grid², width) residual stream
    public float[] XNorm { get; }   // (grid², width)
    public float[] Qkv { get; }     // (grid², 3·width)
    public float[] Attn { get; }    // (grid², width)
    public float[] Proj { get; }    // (grid², width)
    public float[] Hidden { get; }  // (grid², mlp)
    public float[] Global { get; }  // (grid², width) the first global block's output (sam_hd)
    public float[] Neck1 { get; }   // (grid², out_chans)
    public float[] Neck2 { get; }   // (grid², out_chans)
    public float[] Resized { get; } // (96², out_chans)
    public float[] DownA { get; }   // downsample ping-pong buffers
    public float[] DownB { get; }
}
