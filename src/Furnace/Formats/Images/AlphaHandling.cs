// What becomes of an image's alpha channel when it is flattened to RGB.
namespace Furnace.Formats.Images;

public enum AlphaHandling
{
    /// <summary>Drop alpha and keep the stored colour, as PIL's Image.convert("RGB") does — which is what
    /// transformers' convert_to_rgb (and so every HF image processor) does. Fully transparent pixels keep
    /// whatever colour the file stores for them (often black).</summary>
    Discard,

    /// <summary>Composite over opaque white: round(c·a/255 + 255·(1 − a/255)).</summary>
    OverWhite,
}
