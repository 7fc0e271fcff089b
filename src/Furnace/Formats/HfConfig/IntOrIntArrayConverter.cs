// config.json token-id fields that are either one integer or a list of them (eos_token_id): read both as int[].
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Furnace.Formats.HfConfig;

public sealed class IntOrIntArrayConverter : JsonConverter<int[]>
{
    public override int[]? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.Number:
                return [reader.GetInt32()];
            case JsonTokenType.StartArray:
                var ids = new List<int>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.Number) throw new JsonException("expected an integer token id");
                    ids.Add(reader.GetInt32());
                }
                return ids.ToArray();
            default:
                throw new JsonException("expected an integer token id or a list of them");
        }
    }

    public override void Write(Utf8JsonWriter writer, int[] value, JsonSerializerOptions options)
    {
        if (value.Length == 1)
        {
            writer.WriteNumberValue(value[0]);
            return;
        }
        writer.WriteStartArray();
        foreach (int v in value) writer.WriteNumberValue(v);
        writer.WriteEndArray();
    }
}
