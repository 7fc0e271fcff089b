// How the two object groups of a scene stand to each other.
namespace Furnace.Data.Builders;

public enum SceneRelation
{
    /// <summary>One group only.</summary>
    Alone,

    /// <summary>First group in the left half, second in the right half.</summary>
    LeftOf,

    /// <summary>First group in the top half, second in the bottom half.</summary>
    Above,
}
