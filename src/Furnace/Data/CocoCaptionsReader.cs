// COCO captions JSON → CaptionDataset. file_name is resolved against the JSON's folder; when it is not there, against
// the folders beside the JSON and beside its parent, so both coco-mini (file_name "val2017/x.jpg" next to the JSON)
// and the official layout (annotations/captions_val2017.json with file_name "x.jpg" and images in ../val2017/) work.
using Furnace.IO;

namespace Furnace.Data;

internal static class CocoCaptionsReader
{
    public static CaptionDataset Read(string path, bool requireImages)
    {
        byte[] json = JsonInput.ReadAllBytes(path);
        if (JsonInput.FirstChar(json) != '{')
            throw new FurnaceFormatException(path, "not a COCO captions file (expected a JSON object with \"images\" and \"annotations\")");
        var raw = JsonInput.Parse(json, DataJsonContext.Default.CocoCaptionsJson, path);
        if (raw.Images is null) throw new FurnaceFormatException(path, "missing \"images\" (not a COCO captions file)");
        if (raw.Annotations is null) throw new FurnaceFormatException(path, "missing \"annotations\" (not a COCO captions file)");

        // Image id → (index in "images", file name); captions collected per id in annotation order.
        var images = new List<(string Id, string FileName)>(raw.Images.Count);
        var indexOf = new Dictionary<string, int>(raw.Images.Count, StringComparer.Ordinal);
        for (int i = 0; i < raw.Images.Count; i++)
        {
            var image = raw.Images[i] ?? throw new FurnaceFormatException(path, $"images[{i}] is null");
            if (string.IsNullOrEmpty(image.Id)) throw new FurnaceFormatException(path, $"images[{i}] has no \"id\"");
            if (string.IsNullOrWhiteSpace(image.FileName)) throw new FurnaceFormatException(path, $"images[{i}] (id {image.Id}) has no \"file_name\"");
            if (!indexOf.TryAdd(image.Id, i))
                throw new FurnaceFormatException(path, $"images[{i}]: duplicate image id {image.Id} (also images[{indexOf[image.Id]}])");
            images.Add((image.Id, image.FileName));
        }

        var captions = new List<string>[images.Count];
        for (int a = 0; a < raw.Annotations.Count; a++)
        {
            var ann = raw.Annotations[a] ?? throw new FurnaceFormatException(path, $"annotations[{a}] is null");
            if (string.IsNullOrEmpty(ann.ImageId)) throw new FurnaceFormatException(path, $"annotations[{a}] has no \"image_id\"");
            if (!indexOf.TryGetValue(ann.ImageId, out int i))
                throw new FurnaceFormatException(path, $"annotations[{a}]: image_id {ann.ImageId} is not in \"images\"");
            if (string.IsNullOrWhiteSpace(ann.Caption))
                throw new FurnaceFormatException(path, $"annotations[{a}] (image {ann.ImageId}): empty caption");
            (captions[i] ??= []).Add(ann.Caption);
        }

        var locator = new ImageLocator(path);
        var items = new CaptionItem[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            var (id, fileName) = images[i];
            if (captions[i] is null) throw new FurnaceFormatException(path, $"images[{i}] (id {id}): no captions in \"annotations\"");
            string? image = locator.Find(fileName);
            if (image is null)
            {
                if (requireImages)
                    throw new FurnaceFormatException(path, $"images[{i}] (id {id}): image file '{fileName}' not found beside the JSON or in the folders next to it");
                image = System.IO.Path.GetFullPath(System.IO.Path.Combine(locator.BaseDirectory, fileName));
            }
            items[i] = new CaptionItem(id, image, captions[i]);
        }
        return new CaptionDataset(path, CaptionDatasetFormat.Coco, items);
    }
}
