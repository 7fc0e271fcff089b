// Identical objects of one kind in a scene: which object and how many (1–4).
namespace Furnace.Data.Builders;

public sealed record SceneGroup(SceneObject Object, int Count);
