// Sample: caption an image through Microsoft.Extensions.AI's IChatClient, then stream the answer to a follow-up
// question in the same conversation. Everything after FurnaceChatClient.Open is plain IChatClient code: swap in
// another provider's client and it runs unchanged.
//   dotnet run --project samples/Furnace.Samples.ChatClient -- MODEL_DIR IMAGE ["follow-up question"]
// MODEL_DIR is a LLaVA directory in the Hugging Face layout (e.g. llava-hf/llava-1.5-7b-hf).
using Furnace;
using Furnace.Serving;
using Microsoft.Extensions.AI;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Furnace.Samples.ChatClient MODEL_DIR IMAGE [\"follow-up question\"]");
    return 2;
}
string model = args[0], imagePath = args[1];
string question = args.Length > 2 ? args[2] : "What stands out most in this picture, and why?";

try
{
    // MaxBatch > 1 lets concurrent calls share decode steps; a console app asking one thing at a time needs 1
    using IChatClient client = FurnaceChatClient.Open(model, new ChatEngineOptions { MaxBatch = 1 });
    string mediaType = Path.GetExtension(imagePath).ToLowerInvariant() switch
    {
        ".png" => "image/png",
        ".webp" => "image/webp",
        ".gif" => "image/gif",
        ".bmp" => "image/bmp",
        _ => "image/jpeg",
    };
    var image = new DataContent(await File.ReadAllBytesAsync(imagePath), mediaType);
    List<ChatMessage> chat = [new(ChatRole.User, [image, new TextContent("Describe this image in one sentence.")])];
    var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 96 };

    // 1. a whole response: the caption, with token usage
    ChatResponse caption = await client.GetResponseAsync(chat, options);
    Console.WriteLine($"caption: {caption.Text.Trim()}");
    Console.WriteLine($"  ({caption.Usage?.InputTokenCount} prompt tokens, {caption.Usage?.OutputTokenCount} generated, finish: {caption.FinishReason})");

    // 2. a streamed follow-up in the same conversation
    chat.AddMessages(caption);
    chat.Add(new ChatMessage(ChatRole.User, question));
    Console.WriteLine($"\n> {question}");
    var followUp = options.Clone();
    followUp.MaxOutputTokens = 128;
    await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(chat, followUp))
        Console.Write(update.Text);
    Console.WriteLine();
    return 0;
}
catch (FurnaceException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
