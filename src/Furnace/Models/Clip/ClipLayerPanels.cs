// The six matrices of one CLIP encoder layer in MatMulPanel's pre-packed layout (q, k, v, out, fc1, fc2), made once
// per tower on its first forward pass when every matrix is F32 (the layout is f32-only) and the CPU has AVX-512.
// An extra f32 copy of the layer; the checkpoint's row-major matrices stay as they are for everything else.
using Furnace.Tensors;

namespace Furnace.Models.Clip;

internal sealed class ClipLayerPanels : IDisposable
{
    private ClipLayerPanels(PanelMatrix wq, PanelMatrix wk, PanelMatrix wv, PanelMatrix wo, PanelMatrix fc1, PanelMatrix fc2)
    {
        Wq = wq; Wk = wk; Wv = wv; Wo = wo; Fc1 = fc1; Fc2 = fc2;
    }

    public PanelMatrix Wq { get; }
    public PanelMatrix Wk { get; }
    public PanelMatrix Wv { get; }
    public PanelMatrix Wo { get; }
    public PanelMatrix Fc1 { get; }
    public PanelMatrix Fc2 { get; }

    public static bool Supports(ClipEncoderLayerWeights w) =>
        PanelMatrix.Supports(w.Wq) && PanelMatrix.Supports(w.Wk) && PanelMatrix.Supports(w.Wv)
        && PanelMatrix.Supports(w.Wo) && PanelMatrix.Supports(w.Fc1) && PanelMatrix.Supports(w.Fc2);

    /// <summary>Packed layers 0..count-1, or null when any of them cannot pack.</summary>
    public static ClipLayerPanels[]? TryPack(ClipEncoderLayerWeights[] layers, int count, KernelContext ctx)
    {
        for (int l = 0; l < count; l++)
            if (!Supports(layers[l])) return null;
        var all = new ClipLayerPanels[count];
        for (int l = 0; l < count; l++)
        {
            ClipEncoderLayerWeights w = layers[l];
            all[l] = new ClipLayerPanels(PanelMatrix.Pack(w.Wq, ctx), PanelMatrix.Pack(w.Wk, ctx), PanelMatrix.Pack(w.Wv, ctx),
                PanelMatrix.Pack(w.Wo, ctx), PanelMatrix.Pack(w.Fc1, ctx), PanelMatrix.Pack(w.Fc2, ctx));
        }
        return all;
    }

    public void Dispose()
    {
        Wq.Dispose(); Wk.Dispose(); Wv.Dispose(); Wo.Dispose(); Fc1.Dispose(); Fc2.Dispose();
    }
}
