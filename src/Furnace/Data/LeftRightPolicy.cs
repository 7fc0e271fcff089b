// What a horizontal flip does to an example whose text says left or right: a mirrored image with unchanged text
// would teach the model the wrong side.
namespace Furnace.Data;

public enum LeftRightPolicy
{
    /// <summary>Flip and swap the words in every turn (left ↔ right, 左 ↔ 右).</summary>
    Swap,

    /// <summary>Do not flip that example.</summary>
    NoFlip,
}
