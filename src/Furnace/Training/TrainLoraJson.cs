// train.json "stages[i].lora": the adapter a stage creates (PEFT LoraConfig's r, lora_alpha, lora_dropout,
// target_modules: "q_proj,v_proj", "all-linear" or a list).
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Furnace.Training;

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record TrainLoraJson
{
    public int? R { get; init; }
    public double? Alpha { get; init; }
    public double? Dropout { get; init; }
    public JsonElement? TargetModules { get; init; }
    public bool? UseRslora { get; init; }
}
