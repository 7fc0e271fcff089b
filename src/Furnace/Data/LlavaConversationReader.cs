// LLaVA conversation JSON → training samples: the format of LLaVA-Pretrain (blip_laion_cc_sbu_558k.json),
// LLaVA-Instruct-150K and llava_v1_5_mix665k.json (haotian-liu/LLaVA, llava/train/train.py LazySupervisedDataset):
//   [{"id": "000000033471", "image": "coco/train2017/000000033471.jpg",
//     "conversations": [{"from": "human", "value": "<image>\nWhat are the colors of the bus?"},
//                       {"from": "gpt", "value": "The bus is white and red."}, ...]}, ...]
// "image" is relative to the image folder and may be absent (text-only samples). Turns alternate human/gpt
// ("user"/"assistant" are accepted too), start with human and end with gpt; a sample with an image holds the
// "<image>" placeholder exactly once, in a human turn; a text-only sample holds none. Ids may repeat (LLaVA-Instruct
// reuses COCO ids across its conversation kinds). Every error names the file, the sample index and the field.
using System.Text.Json;
using Furnace.Models.Vlm;

namespace Furnace.Data;

internal static class LlavaConversationReader
{
    private static readonly JsonDocumentOptions Options = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = 64 };

    public static List<TrainingSetEntry> Read(string path, TrainingSetOptions options)
    {
        byte[] bytes = IO.JsonInput.ReadAllBytes(path);
        try
        {
            ReadOnlyMemory<byte> json = bytes.AsSpan().StartsWith("\uFEFF"u8) ? bytes.AsMemory(3) : bytes;
            using var doc = JsonDocument.Parse(json, Options);
            return Read(doc.RootElement, path, options);
        }
        catch (JsonException e)
        {
            throw new FurnaceFormatException(path, IO.JsonInput.Describe(e));
        }
        catch (InvalidOperationException e)
        {
            // JsonElement.GetString on text that is not valid UTF-16 (a lone surrogate escape)
            throw new FurnaceFormatException(path, $"invalid JSON text: {e.Message}");
        }
    }

    private static List<TrainingSetEntry> Read(JsonElement root, string path, TrainingSetOptions options)
    {
        if (root.ValueKind != JsonValueKind.Array)
            throw new FurnaceFormatException(path, $"not a LLaVA conversation file (expected a JSON array of {{\"id\", \"image\", \"conversations\"}}, got {Kind(root)})");
        string jsonDir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string? folder = options.ImageFolder is null ? null : Path.GetFullPath(options.ImageFolder);
        if (folder is not null && !Directory.Exists(folder)) throw new FurnaceException($"{options.ImageFolder}: image folder does not exist");
        ImageLocator? locator = folder is null ? new ImageLocator(path) : null;

        var entries = new List<TrainingSetEntry>(root.GetArrayLength());
        int i = 0;
        foreach (JsonElement sample in root.EnumerateArray())
        {
            entries.Add(ReadSample(sample, i, path, options, folder ?? jsonDir, locator));
            i++;
        }
        if (entries.Count == 0) throw new FurnaceFormatException(path, "no samples (the JSON array is empty)");
        return entries;
    }

    private static TrainingSetEntry ReadSample(JsonElement sample, int i, string path, TrainingSetOptions options, string baseDir, ImageLocator? locator)
    {
        FurnaceFormatException Bad(string problem) => new(path, $"[{i}]{problem}");
        if (sample.ValueKind != JsonValueKind.Object) throw Bad($": expected an object, got {Kind(sample)}");

        string id = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (sample.TryGetProperty("id", out JsonElement idEl))
        {
            id = idEl.ValueKind switch
            {
                JsonValueKind.String => idEl.GetString()!,
                JsonValueKind.Number => idEl.GetRawText(),
                _ => throw Bad($".id: expected a string or a number, got {Kind(idEl)}"),
            };
            if (id.Length == 0) throw Bad(".id is empty");
        }
        string label = $" (id {Short(id)})";

        string? image = null;
        if (sample.TryGetProperty("image", out JsonElement imageEl) && imageEl.ValueKind != JsonValueKind.Null)
        {
            if (imageEl.ValueKind == JsonValueKind.Array) throw Bad($"{label}.image: multi-image samples are not supported (one image path per sample)");
            if (imageEl.ValueKind != JsonValueKind.String) throw Bad($"{label}.image: expected a path string, got {Kind(imageEl)}");
            image = imageEl.GetString()!;
            if (string.IsNullOrWhiteSpace(image)) throw Bad($"{label}.image is empty");
            if (image.Contains('\0')) throw Bad($"{label}.image: the path holds a NUL character");
        }

        if (!sample.TryGetProperty("conversations", out JsonElement convEl)) throw Bad($"{label}: missing \"conversations\"");
        if (convEl.ValueKind != JsonValueKind.Array) throw Bad($"{label}.conversations: expected an array of {{\"from\", \"value\"}}, got {Kind(convEl)}");
        var turns = new List<TrainingTurn>(convEl.GetArrayLength());
        int placeholders = 0;
        foreach (JsonElement turn in convEl.EnumerateArray())
        {
            int t = turns.Count;
            string at = $"{label}.conversations[{t}]";
            if (turn.ValueKind != JsonValueKind.Object) throw Bad($"{at}: expected an object {{\"from\", \"value\"}}, got {Kind(turn)}");
            if (!turn.TryGetProperty("from", out JsonElement fromEl)) throw Bad($"{at}: missing \"from\"");
            if (fromEl.ValueKind != JsonValueKind.String) throw Bad($"{at}.from: expected a string, got {Kind(fromEl)}");
            string from = fromEl.GetString()!;
            TrainingRole role = from switch
            {
                "human" or "user" => TrainingRole.User,
                "gpt" or "assistant" => TrainingRole.Assistant,
                _ => throw Bad($"{at}.from: '{Short(from)}' is not a speaker (human or gpt)"),
            };
            TrainingRole expected = t % 2 == 0 ? TrainingRole.User : TrainingRole.Assistant;
            if (role != expected) throw Bad($"{at}.from: '{from}' out of turn (turns alternate human, gpt, starting with human)");
            if (!turn.TryGetProperty("value", out JsonElement valueEl)) throw Bad($"{at}: missing \"value\"");
            if (valueEl.ValueKind != JsonValueKind.String) throw Bad($"{at}.value: expected a string, got {Kind(valueEl)}");
            string value = valueEl.GetString()!;
            if (string.IsNullOrWhiteSpace(value)) throw Bad($"{at}.value is empty");
            int n = Count(value, LlavaModel.ImagePlaceholder);
            if (n > 0 && role == TrainingRole.Assistant) throw Bad($"{at}.value: the {LlavaModel.ImagePlaceholder} placeholder is in a gpt turn");
            placeholders += n;
            turns.Add(new TrainingTurn(role, value));
        }
        if (turns.Count == 0) throw Bad($"{label}.conversations is empty");
        if (turns.Count % 2 != 0) throw Bad($"{label}.conversations: ends with a human turn (the last turn must be gpt's answer)");
        if (image is not null && placeholders != 1)
            throw Bad($"{label}.conversations: a sample with an image needs the {LlavaModel.ImagePlaceholder} placeholder exactly once (found {placeholders})");
        if (image is null && placeholders != 0)
            throw Bad($"{label}.conversations: {LlavaModel.ImagePlaceholder} in a sample without \"image\"");

        if (image is null) return new TrainingSetEntry(id, null, "id:" + id, false, turns, null);
        string? found = locator is not null ? locator.Find(image) : FindIn(baseDir, image);
        if (found is null && options.RequireImages)
            throw Bad($"{label}.image: file '{image}' not found in {baseDir}{(locator is not null ? " or the folders next to it (give the image folder)" : "")}");
        string full = found ?? Path.GetFullPath(Path.Combine(baseDir, image));
        // the key of the split: the resolved path relative to the image folder ("./a.jpg" and "a.jpg" are one image)
        string key = Path.GetRelativePath(baseDir, full).Replace('\\', '/');
        return new TrainingSetEntry(id, full, key, found is not null, turns, null);
    }

    private static string? FindIn(string folder, string image)
    {
        string candidate = Path.GetFullPath(Path.Combine(folder, image));
        return File.Exists(candidate) ? candidate : null;
    }

    private static int Count(string text, string what)
    {
        int n = 0;
        for (int at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    private static string Short(string s)
    {
        s = new string(s.Select(c => char.IsControl(c) ? ' ' : c).ToArray());
        return s.Length <= 40 ? s : s[..40] + "…";
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => e.ValueKind.ToString(),
    };
}
