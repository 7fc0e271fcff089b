// LoRA config and adapter files: PEFT's adapter_config.json fields, the target-module matcher, and
// adapter_model.safetensors key names, round trips and error messages.
using System.Text;
using Furnace.Formats.SafeTensors;
using Furnace.Models.Llama;
using Furnace.Models.Lora;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models.Lora;

public sealed class LoraAdapterTests
{
    private static readonly LlamaConfig Tiny = LlamaConfig.Preset("test-tiny");

    private static LoraConfig Config(string targets = "q_proj,v_proj", int rank = 4, float alpha = 8, bool rs = false) =>
        new LoraConfig { Rank = rank, Alpha = alpha, Targets = LoraTargets.Parse(targets), UseRsLora = rs }.Validated("test");

    [Fact]
    public void Parse_PeftConfig_ReadsFieldsAndScale()
    {
        const string json = """
            {"alpha_pattern": {}, "auto_mapping": null, "base_model_name_or_path": "deepseek-ai/deepseek-llm-7b-base",
             "bias": "none", "fan_in_fan_out": false, "inference_mode": true, "init_lora_weights": true,
             "layers_pattern": null, "layers_to_transform": null, "lora_alpha": 16, "lora_dropout": 0.05,
             "modules_to_save": null, "peft_type": "LORA", "r": 8, "rank_pattern": {}, "revision": null,
             "target_modules": ["v_proj", "q_proj"], "task_type": "CAUSAL_LM", "use_dora": false, "use_rslora": false}
            """;
        var c = LoraConfig.Parse(Encoding.UTF8.GetBytes(json), "adapter_config.json");
        Assert.Equal(8, c.Rank);
        Assert.Equal(16f, c.Alpha);
        Assert.Equal(0.05f, c.Dropout);
        Assert.Equal(2f, c.Scale);
        Assert.Equal(LoraTargetKind.Names, c.Targets.Kind);
        Assert.Equal(["v_proj", "q_proj"], c.Targets.Names);
        Assert.Equal("deepseek-ai/deepseek-llm-7b-base", c.BaseModel);
        Assert.Equal("CAUSAL_LM", c.TaskType);
    }

    [Fact]
    public void Scale_RsLora_IsAlphaOverSqrtRank()
    {
        Assert.Equal(16f / 4f, Config(rank: 16, alpha: 16, rs: true).Scale);
        Assert.Equal(1f, Config(rank: 16, alpha: 16).Scale);
    }

    [Fact]
    public void ToJson_ThenParse_RoundTrips()
    {
        foreach (var c in new[] { Config(), Config("all-linear", rs: true), Config(@"re:.*\.(q|k)_proj") with { BaseModel = "base", Dropout = 0.1f } })
        {
            var back = LoraConfig.Parse(c.ToJson(), "x");
            Assert.Equal(c, back);
        }
    }

    [Theory]
    [InlineData("""{"r": 8, "target_modules": ["q_proj"], "use_dora": true}""", "use_dora")]
    [InlineData("""{"r": 8, "target_modules": ["q_proj"], "bias": "all"}""", "bias 'all'")]
    [InlineData("""{"r": 8, "target_modules": ["q_proj"], "rank_pattern": {"q_proj": 4}}""", "rank_pattern")]
    [InlineData("""{"target_modules": ["q_proj"]}""", "missing field 'r'")]
    [InlineData("""{"r": 8}""", "missing field 'target_modules'")]
    [InlineData("""{"r": 0, "target_modules": ["q_proj"]}""", "r 0")]
    [InlineData("""{"r": 8, "target_modules": ["q_proj"], "peft_type": "IA3"}""", "peft_type 'IA3'")]
    [InlineData("""{"r": "eight", "target_modules": ["q_proj"]}""", "at r")]
    public void Parse_BadConfig_NamesTheField(string json, string expected)
    {
        var e = Assert.ThrowsAny<FurnaceException>(() => LoraConfig.Parse(Encoding.UTF8.GetBytes(json), "adapter_config.json"));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("adapter_config.json", e.Message);
    }

    [Fact]
    public void Matches_List_MatchesLastComponentsLikePeft()
    {
        var t = LoraTargets.Parse("q_proj, self_attn.v_proj");
        Assert.True(t.Matches("model.layers.0.self_attn.q_proj"));
        Assert.True(t.Matches("language_model.model.layers.3.self_attn.v_proj"));
        Assert.False(t.Matches("model.layers.0.self_attn.k_proj"));
        Assert.False(t.Matches("model.layers.0.self_attn.xq_proj"));
    }

    [Fact]
    public void Matches_Regex_IsFullMatch()
    {
        var t = LoraTargets.Pattern(@".*layers\.1\..*_proj");
        Assert.True(t.Matches("model.layers.1.mlp.up_proj"));
        Assert.False(t.Matches("model.layers.11.mlp.up_proj"));
        Assert.False(LoraTargets.Pattern("q_proj").Matches("model.layers.0.self_attn.q_proj"));
    }

    [Fact]
    public void Select_AllLinear_TakesSevenLinearsPerLayerWithoutLmHead()
    {
        var m = LoraModules.Select(Tiny, LoraTargets.AllLinear);
        Assert.Equal(7 * Tiny.Layers, m.Count);
        Assert.DoesNotContain(m, x => x.Path.Contains("lm_head"));
        Assert.Contains(new LoraModule("model.layers.1.mlp.down_proj", Tiny.Dim, Tiny.FfnDim), m);
        Assert.Contains(new LoraModule("language_model.model.layers.0.self_attn.k_proj", Tiny.KvDim, Tiny.Dim), LoraModules.Select(Tiny, LoraTargets.AllLinear, LoraModules.LlavaPrefix));
    }

    [Fact]
    public void Save_ThenLoad_KeepsPeftKeysAndValues()
    {
        using var dir = new TempDir();
        var adapter = LoraAdapter.Create(Config(), Tiny, seed: 3, randomB: true);
        adapter.Save(dir.Path);
        using (var st = SafeTensorsFile.Open(dir.File(LoraAdapter.WeightsFileName)))
        {
            var a = st.FindInfo("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
            var b = st.FindInfo("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight");
            Assert.NotNull(a);
            Assert.NotNull(b);
            Assert.Equal([4L, Tiny.Dim], a.Shape);
            Assert.Equal([(long)Tiny.KvDim, 4L], b.Shape);
            Assert.Equal(8, st.Tensors.Count);
        }
        var back = LoraAdapter.Load(dir.Path);
        Assert.Equal(adapter.Config, back.Config);
        Assert.Equal(adapter.ModulePaths, back.ModulePaths);
        foreach (string p in adapter.ModulePaths)
        {
            Assert.Equal(adapter.Modules[p].A, back.Modules[p].A);
            Assert.Equal(adapter.Modules[p].B, back.Modules[p].B);
        }
        Assert.Equal(Tiny.Layers * (2 * 4 * Tiny.Dim + 4 * Tiny.QDim + 4 * Tiny.KvDim), back.ParameterCount);
    }

    [Fact]
    public void Create_PeftInit_HasZeroB()
    {
        var adapter = LoraAdapter.Create(Config("all-linear"), Tiny, seed: 1);
        Assert.Equal(14, adapter.Modules.Count);
        Assert.All(adapter.Modules.Values, m => Assert.All(m.B, v => Assert.Equal(0f, v)));
        Assert.Contains(adapter.Modules.Values, m => m.A.Any(v => v != 0));
    }

    [Fact]
    public void Create_UnknownTarget_Throws()
    {
        var e = Assert.Throws<FurnaceException>(() => LoraAdapter.Create(Config("q_proj,qkv_proj"), Tiny, seed: 1));
        Assert.Contains("qkv_proj", e.Message);
    }

    [Fact]
    public void CheckAgainst_WrongShape_NamesKeyAndBothShapes()
    {
        var other = Tiny with { Dim = 32, Heads = 2, KvHeads = 1 };
        var adapter = LoraAdapter.Create(Config(), Tiny, seed: 1);
        var e = Assert.Throws<FurnaceException>(() => adapter.CheckAgainst(other, "base"));
        Assert.Contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", e.Message);
        Assert.Contains("[4, 64]", e.Message);
        Assert.Contains("[32, 32]", e.Message);
    }

    [Fact]
    public void CheckAgainst_LlavaAdapterOnPlainDecoder_Fits()
    {
        LoraAdapter.Create(Config(), Tiny, seed: 1, prefix: LoraModules.LlavaPrefix).CheckAgainst(Tiny, "base");
    }

    [Fact]
    public void CheckAgainst_WithPrefix_RequiresExactPaths()
    {
        var adapter = LoraAdapter.Create(Config(), Tiny, seed: 1, prefix: LoraModules.LlavaPrefix);
        adapter.CheckAgainst(Tiny, LoraModules.LlavaPrefix, "base");
        Assert.Contains("trained on a LLaVA model", Assert.Throws<FurnaceException>(() => adapter.CheckAgainst(Tiny, "", "base")).Message);
        var plain = LoraAdapter.Create(Config(), Tiny, seed: 1);
        Assert.Contains("start with 'language_model.'", Assert.Throws<FurnaceException>(() => plain.CheckAgainst(Tiny, LoraModules.LlavaPrefix, "base")).Message);
    }

    [Fact]
    public void CheckAgainst_VisionTowerModule_Explains()
    {
        var m = new LoraModule("vision_tower.vision_model.encoder.layers.0.self_attn.q_proj", 32, 32);
        var adapter = new LoraAdapter(Config(), [KeyValuePair.Create(m.Path, LoraModuleWeights.Random(m, 4, 1))]);
        var e = Assert.Throws<FurnaceException>(() => adapter.CheckAgainst(Tiny, "base"));
        Assert.Contains("vision tower", e.Message);
        Assert.False(LoraTargets.AllLinear.Matches(m.Path));
    }

    [Fact]
    public void CheckAgainst_LayerBeyondBase_Explains()
    {
        var adapter = LoraAdapter.Create(Config(), Tiny with { Layers = 3 }, seed: 1);
        Assert.Contains("has 2 layers", Assert.Throws<FurnaceException>(() => adapter.CheckAgainst(Tiny, "base")).Message);
    }

    [Fact]
    public void Load_RankDiffersFromConfig_NamesTensor()
    {
        using var dir = new TempDir();
        LoraAdapter.Create(Config(rank: 4), Tiny, seed: 1).Save(dir.Path);
        File.WriteAllBytes(dir.File(LoraConfig.FileName), Config(rank: 8).ToJson());
        var e = Assert.Throws<FurnaceFormatException>(() => LoraAdapter.Load(dir.Path));
        Assert.Contains("lora_A.weight", e.Message);
        Assert.Contains("rank 4", e.Message);
        Assert.Contains("r 8", e.Message);
    }

    [Fact]
    public void Load_MissingFiles_Throws()
    {
        using var dir = new TempDir();
        Assert.Contains("adapter_config.json", Assert.Throws<FurnaceException>(() => LoraAdapter.Load(dir.Path)).Message);
        File.WriteAllBytes(dir.File(LoraConfig.FileName), Config().ToJson());
        Assert.Contains("adapter_model.safetensors", Assert.Throws<FurnaceException>(() => LoraAdapter.Load(dir.Path)).Message);
        File.WriteAllBytes(dir.File(LoraAdapter.WeightsFileName), [1, 2, 3]);
        Assert.Contains("adapter_model.safetensors", Assert.ThrowsAny<FurnaceException>(() => LoraAdapter.Load(dir.Path)).Message);
        Assert.Contains("not found", Assert.Throws<FurnaceException>(() => LoraAdapter.Load(dir.File("nope"))).Message);
    }

    [Fact]
    public void Load_UnpairedFactor_Throws()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File(LoraConfig.FileName), Config().ToJson());
        new SafeTensorsWriter().Add("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", [4, 64], new float[256]).Write(dir.File(LoraAdapter.WeightsFileName));
        var e = Assert.Throws<FurnaceFormatException>(() => LoraAdapter.Load(dir.Path));
        Assert.Contains("has no matching 'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight'", e.Message);
    }

    [Fact]
    public void Delta_IsScaledBTimesA()
    {
        var m = new LoraModuleWeights(2, 3, 2, [1, 2, 3, 4, 5, 6], [1, 0, 0.5f, -1]);
        Assert.Equal([2, 4, 6, -7, -8, -9], m.Delta(2f)); // row 1: 2·(0.5·[1,2,3] − [4,5,6])
    }
}
