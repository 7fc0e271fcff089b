// A source package turned into captioned images, before rasterising: the images plus what the output's LICENSE
// and ATTRIBUTION.md must say.
namespace Furnace.Data.Builders;

/// <param name="Package">Where the images come from, e.g. "npm openmoji@17.0.0".</param>
/// <param name="License">SPDX id of the images' licence.</param>
/// <param name="LicenseText">The licence text shipped with the package (copied to LICENSE).</param>
/// <param name="Notes">Attribution lines: upstream, and where the captions' names come from (with their licences).</param>
public sealed record SourceDataset(
    string Name,
    string Package,
    string License,
    string LicenseText,
    IReadOnlyList<string> Notes,
    IReadOnlyList<SourceImage> Items);
