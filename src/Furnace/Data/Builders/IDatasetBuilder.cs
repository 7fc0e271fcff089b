// A data builder: `furnace data build NAME` — fetches freely licensed images and their real names/annotations
// through a package manager (npm, Debian), rasterises them and writes a JSONL caption dataset with its licence.
namespace Furnace.Data.Builders;

public interface IDatasetBuilder
{
    /// <summary>The NAME of `furnace data build NAME`.</summary>
    string Name { get; }

    /// <summary>One line for the help text: what the source is and its licence.</summary>
    string Description { get; }

    DatasetBuildReport Build(DatasetBuildRequest request);
}
