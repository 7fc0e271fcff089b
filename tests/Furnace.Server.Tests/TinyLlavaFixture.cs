// One tiny random LLaVA (RandomLlava test-tiny + the synthetic tokenizer) served by a real Kestrel on 127.0.0.1:0,
// shared by the API tests; the same directory is loaded a second time as the oracle (LlavaModel.Generate).
using Furnace.Formats.Images;
using Furnace.Models.Vlm;
using Furnace.Serving;
using Microsoft.AspNetCore.Builder;

namespace Furnace.Server.Tests;

public sealed class TinyLlavaFixture : IAsyncLifetime
{
    public TempDir Dir { get; } = new();

    public string ModelDir { get; private set; } = "";

    public byte[] Png { get; } = TestImages.Png(40, 30, seed: 1);

    public RgbImage Image => ImageDecoder.Decode(Png, "test.png");

    public LlavaModel Oracle { get; private set; } = null!;

    public IChatEngine Engine { get; private set; } = null!;

    public TestServer Server { get; private set; } = null!;

    public static ServerOptions Options => new()
    {
        Port = 0,
        MaxBodyBytes = 1 << 20,
        MaxImages = 2,
        MaxTokensCap = 64,
        Timeout = TimeSpan.FromSeconds(120),
    };

    public async Task InitializeAsync()
    {
        ModelDir = Dir.File("tiny-llava");
        TinyLlava.Write(ModelDir, seed: 5);
        Oracle = LlavaModel.Load(ModelDir);
        Engine = ChatEngines.Open(ModelDir, new ChatEngineOptions { Threads = 1, MaxQueue = 16 });
        Server = await TestServer.StartAsync(Engine, Options);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Engine.Dispose();
        Oracle.Dispose();
        Dir.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class TinyLlavaCollection : ICollectionFixture<TinyLlavaFixture>
{
    public const string Name = "tiny llava server";
}
