// Where a TrainingLoader stands: the epoch, how many examples of that epoch were already handed out, the shuffle
// seed and the dataset size. The order of every epoch is a pure function of (seed, epoch, count), and augmentation
// and caption choice are pure functions of (seed, epoch, sample index), so a checkpoint that stores this record
// resumes the exact remaining sequence. Serialises as {"epoch":1,"index":96,"seed":42,"count":5000}.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Furnace.Data;

public sealed record DataPosition(
    [property: JsonPropertyName("epoch")] int Epoch,
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("seed")] ulong Seed,
    [property: JsonPropertyName("count")] int Count)
{
    public string ToJson() => JsonSerializer.Serialize(this, DataJsonContext.Default.DataPosition);

    public static DataPosition FromJson(string json)
    {
        DataPosition? p;
        try
        {
            p = JsonSerializer.Deserialize(json, DataJsonContext.Default.DataPosition);
        }
        catch (JsonException e)
        {
            throw new FurnaceException($"data position: malformed JSON: {e.Message}");
        }
        if (p is null) throw new FurnaceException("data position: is 'null'");
        if (p.Epoch < 0 || p.Index < 0 || p.Count < 0 || p.Index > p.Count)
            throw new FurnaceException($"data position: epoch {p.Epoch}, index {p.Index} of {p.Count} is out of range");
        return p;
    }

    public override string ToString() => $"epoch {Epoch}, example {Index}/{Count}, seed {Seed}";
}

