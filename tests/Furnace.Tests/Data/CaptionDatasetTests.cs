// CaptionDataset readers: coco-mini as it is on disk, the official COCO layout (annotations/ beside val2017/),
// JSONL and image folders, and every user error naming the file and the line or entry.
using Furnace.Data;
using Furnace.Tests.Support;

namespace Furnace.Tests.Data;

public sealed class CaptionDatasetTests
{
    private static void Touch(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, [0xFF, 0xD8, 0xFF]);
    }

    private static FurnaceException Fails(Action load) => Assert.ThrowsAny<FurnaceException>(load);

    [Fact]
    public void Coco_CocoMini_239ImagesWithFiveCaptionsAndExistingImages()
    {
        string json = SharedPaths.Data("coco-mini", "captions.json");
        var ds = CaptionDataset.Load(json);
        Assert.Equal(CaptionDatasetFormat.Coco, ds.Format);
        Assert.Equal(239, ds.Count);
        Assert.All(ds.Items, i =>
        {
            Assert.Equal(5, i.Captions.Count);
            Assert.True(Path.IsPathRooted(i.ImagePath));
            Assert.True(File.Exists(i.ImagePath), i.ImagePath);
        });
        var first = ds.Items[0];
        Assert.Equal("790", first.Id);
        Assert.Equal(SharedPaths.Data("coco-mini", "train2017", "000000000790.jpg"), first.ImagePath);
        Assert.Equal("a family is sitting down at a table to have cake", first.Captions[0]);
        Assert.Same(first, ds["790"]);
        Assert.Equal(239, ds.References().Count);
    }

    [Fact]
    public void Coco_OfficialLayout_FindsImagesInTheSplitFolderBesideAnnotations()
    {
        using var dir = new TempDir();
        Touch(dir.File("val2017/000000000139.jpg"));
        Touch(dir.File("train2017/000000000139.jpg"));
        Touch(dir.File("annotations/local.jpg"));
        string json = dir.File("annotations/captions_val2017.json");
        File.WriteAllText(json, """
            {"info": {"year": 2017}, "licenses": [],
             "images": [{"id": 139, "file_name": "000000000139.jpg", "width": 640}, {"id": "x", "file_name": "local.jpg"}],
             "annotations": [{"id": 1, "image_id": 139, "caption": "A room."}, {"id": 2, "image_id": "x", "caption": "b"},
                             {"id": 3, "image_id": 139, "caption": "A living room."}]}
            """);
        var ds = CaptionDataset.Load(json);
        Assert.Equal(["139", "x"], ds.Items.Select(i => i.Id));
        Assert.Equal(dir.File("val2017/000000000139.jpg"), ds["139"].ImagePath);
        Assert.Equal(dir.File("annotations/local.jpg"), ds["x"].ImagePath);
        Assert.Equal(["A room.", "A living room."], ds["139"].Captions);
    }

    [Fact]
    public void Coco_MissingImage_NamesEntryUnlessImagesAreNotRequired()
    {
        using var dir = new TempDir();
        string json = dir.File("c.json");
        File.WriteAllText(json, """{"images": [{"id": 7, "file_name": "gone.jpg"}], "annotations": [{"image_id": 7, "caption": "a"}]}""");
        var e = Fails(() => CaptionDataset.Load(json));
        Assert.Equal($"{json}: images[0] (id 7): image file 'gone.jpg' not found beside the JSON or in the folders next to it", e.Message);
        var ds = CaptionDataset.Load(json, requireImages: false);
        Assert.Equal(dir.File("gone.jpg"), ds["7"].ImagePath);
    }

    [Theory]
    [InlineData("""{"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": [{"image_id": 1, "caption": "x"}""", "malformed JSON at line 1")]
    [InlineData("""{"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": []}""", "images[0] (id 1): no captions in \"annotations\"")]
    [InlineData("""{"images": [{"id": 1, "file_name": "a.jpg"}, {"id": 1, "file_name": "b.jpg"}], "annotations": []}""", "images[1]: duplicate image id 1 (also images[0])")]
    [InlineData("""{"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": [{"image_id": 1, "caption": "x"}, {"image_id": 9, "caption": "y"}]}""", "annotations[1]: image_id 9 is not in \"images\"")]
    [InlineData("""{"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": [{"image_id": 1, "caption": "  "}]}""", "annotations[0] (image 1): empty caption")]
    [InlineData("""{"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": [{"image_id": 1, "caption": 5}]}""", "malformed JSON at line 1 (annotations[0].caption)")]
    [InlineData("""{"images": [{"id": 1}], "annotations": []}""", "images[0] (id 1) has no \"file_name\"")]
    [InlineData("""{"annotations": []}""", "missing \"images\"")]
    [InlineData("""[{"image_id": 1, "caption": "x"}]""", "not a COCO captions file")]
    public void Coco_Errors_NameFileAndEntry(string content, string expected)
    {
        using var dir = new TempDir();
        Touch(dir.File("a.jpg"));
        Touch(dir.File("b.jpg"));
        string json = dir.File("c.json");
        File.WriteAllText(json, content);
        var e = Fails(() => CaptionDataset.Load(json));
        Assert.StartsWith($"{json}: {expected}", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Coco_MalformedOnLaterLine_GivesThatLine()
    {
        using var dir = new TempDir();
        string json = dir.File("c.json");
        File.WriteAllText(json, "{\n  \"images\": [\n    {\"id\": 1, \"file_name\": \"a.jpg\"},,\n  ]\n}\n");
        Assert.StartsWith($"{json}: malformed JSON at line 3", Fails(() => CaptionDataset.Load(json)).Message);
    }

    [Fact]
    public void Jsonl_ReadsLinesWithRelativeImagesAndIds()
    {
        using var dir = new TempDir();
        Touch(dir.File("img/dog.jpg"));
        Touch(dir.File("img/cat.png"));
        string jsonl = dir.File("set.jsonl");
        File.WriteAllText(jsonl, """
            {"image": "img/dog.jpg", "captions": ["A dog.", "A brown dog."]}

            {"id": 42, "image": "img/cat.png", "captions": ["A cat."]}
            """);
        var ds = CaptionDataset.Load(jsonl);
        Assert.Equal(CaptionDatasetFormat.Jsonl, ds.Format);
        Assert.Equal(["dog", "42"], ds.Items.Select(i => i.Id));
        Assert.Equal(dir.File("img/dog.jpg"), ds["dog"].ImagePath);
        Assert.Equal(["A dog.", "A brown dog."], ds["dog"].Captions);
        Assert.Equal(dir.File("img/cat.png"), ds["42"].ImagePath);
    }

    [Fact]
    public void Jsonl_CaptionsZh_ReadWhenPresentNullOtherwise()
    {
        using var dir = new TempDir();
        Touch(dir.File("a.png"));
        Touch(dir.File("b.png"));
        string jsonl = dir.File("set.jsonl");
        File.WriteAllText(jsonl, """
            {"id": "a", "image": "a.png", "captions": ["the flag of France"], "captions_zh": ["法国的旗帜", "一面法国的旗帜"]}
            {"id": "b", "image": "b.png", "captions": ["the flag of England"]}
            """);
        var ds = CaptionDataset.Load(jsonl);
        Assert.Equal(["法国的旗帜", "一面法国的旗帜"], ds["a"].CaptionsZh);
        Assert.Null(ds["b"].CaptionsZh);
        Assert.Equal(["the flag of England"], ds["b"].Captions);
    }

    [Theory]
    [InlineData("{\"image\": \"a.jpg\", \"captions\": [\"x\"]}\n{\"image\": \"b.jpg\", \"captions\": [\"y\"]\n", 2, "malformed JSON")]
    [InlineData("{\"image\": \"a.jpg\", \"captions\": []}\n", 1, "empty caption list for a.jpg")]
    [InlineData("{\"image\": \"a.jpg\"}\n", 1, "empty caption list for a.jpg")]
    [InlineData("{\"image\": \"a.jpg\", \"captions\": [\"x\", \"\"]}\n", 1, "captions[1] is empty")]
    [InlineData("{\"image\": \"a.jpg\", \"captions\": [\"x\"], \"captions_zh\": [\"\"]}\n", 1, "captions_zh[0] is empty")]
    [InlineData("{\"captions\": [\"x\"]}\n", 1, "missing \"image\"")]
    [InlineData("{\"image\": \"gone.jpg\", \"captions\": [\"x\"]}\n", 1, "image file 'gone.jpg' not found")]
    [InlineData("{\"image\": \"a.jpg\", \"captions\": [\"x\"]}\n\n{\"image\": \"sub/a.jpg\", \"captions\": [\"y\"]}\n", 3, "duplicate image id a (also line 1); give each line an \"id\"")]
    [InlineData("{\"id\": 1, \"image\": \"a.jpg\", \"captions\": [\"x\"]}\n{\"id\": \"1\", \"image\": \"b.jpg\", \"captions\": [\"y\"]}\n", 2, "duplicate image id 1 (also line 1)")]
    public void Jsonl_Errors_NameFileAndLine(string content, int line, string expected)
    {
        using var dir = new TempDir();
        Touch(dir.File("a.jpg"));
        Touch(dir.File("b.jpg"));
        Touch(dir.File("sub/a.jpg"));
        string jsonl = dir.File("set.jsonl");
        File.WriteAllText(jsonl, content);
        var e = Fails(() => CaptionDataset.Load(jsonl));
        Assert.StartsWith($"{jsonl}:{line}: {expected}", e.Message);
    }

    [Fact]
    public void Folder_ImagesWithSameNamedTxt_OneCaptionPerLine()
    {
        using var dir = new TempDir();
        Touch(dir.File("b.png"));
        Touch(dir.File("a.jpg"));
        File.WriteAllText(dir.File("a.txt"), "A red apple.\n\n  An apple on a table.  \n");
        File.WriteAllText(dir.File("b.txt"), "A banana.");
        File.WriteAllText(dir.File("notes.md"), "ignored");
        var ds = CaptionDataset.Load(dir.Path);
        Assert.Equal(CaptionDatasetFormat.Folder, ds.Format);
        Assert.Equal(["a", "b"], ds.Items.Select(i => i.Id));
        Assert.Equal(["A red apple.", "An apple on a table."], ds["a"].Captions);
        Assert.Equal(dir.File("b.png"), ds["b"].ImagePath);
    }

    [Fact]
    public void Folder_Errors_NameTheFile()
    {
        using (var dir = new TempDir())
        {
            Touch(dir.File("a.jpg"));
            Assert.Equal($"{dir.File("a.jpg")}: no caption file a.txt beside it", Fails(() => CaptionDataset.Load(dir.Path)).Message);
            File.WriteAllText(dir.File("a.txt"), "\n  \n");
            Assert.Equal($"{dir.File("a.txt")}: empty caption list", Fails(() => CaptionDataset.Load(dir.Path)).Message);
            File.WriteAllText(dir.File("z.txt"), "orphan");
            Assert.Equal($"{dir.File("z.txt")}: no image named z beside it", Fails(() => CaptionDataset.Load(dir.Path)).Message);
        }
        using (var dir = new TempDir())
        {
            Touch(dir.File("a.jpg"));
            Touch(dir.File("a.png"));
            File.WriteAllText(dir.File("a.txt"), "x");
            Assert.StartsWith($"{dir.File("a.png")}: duplicate image id a", Fails(() => CaptionDataset.Load(dir.Path)).Message);
        }
    }

    [Fact]
    public void Load_UnknownExtensionOrMissingPath_ClearError()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("x.csv"), "a,b");
        Assert.StartsWith($"{dir.File("x.csv")}: unknown dataset type '.csv'", Fails(() => CaptionDataset.Load(dir.File("x.csv"))).Message);
        Assert.Equal($"{dir.File("nope.json")}: no such file or directory", Fails(() => CaptionDataset.Load(dir.File("nope.json"))).Message);
    }
}
