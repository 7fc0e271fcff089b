// The simplest IChatEngine: one model, one worker thread, one request at a time through the existing Generator, with
// a bounded queue in front (QueuedChatEngine). Waiting requests that are cancelled leave the queue at once; a running
// one stops at its next token. The continuously batched engine implements the same contract.
using Furnace.Generation;
using Furnace.Models;
using Furnace.Models.Vlm;

namespace Furnace.Serving;

public sealed class SequentialChatEngine : QueuedChatEngine
{
    public SequentialChatEngine(LlavaModel model, ChatEngineOptions options, bool ownsModel = true)
        : this(model, null, model.Source, options, ownsModel)
    {
    }

    public SequentialChatEngine(LanguageModel model, ChatEngineOptions options, bool ownsModel = true)
        : this(null, model, model.Path, options, ownsModel)
    {
    }

    // one slot: the request the worker runs
    private SequentialChatEngine(LlavaModel? llava, LanguageModel? text, string source, ChatEngineOptions options, bool ownsModel)
        : base(llava, text, source, options, ownsModel, slots: 1)
    {
        Start("furnace-chat-worker");
    }

    private protected override void WorkLoop()
    {
        while (true)
        {
            WaitForWork();
            Job? job;
            lock (Sync)
            {
                if (Waiting.Count == 0)
                {
                    if (Disposed) return;
                    continue; // a waiting request was cancelled
                }
                job = Waiting.First!.Value;
                Waiting.RemoveFirst();
                Running = 1;
            }
            try
            {
                Run(job);
                job.Output.Writer.TryComplete();
            }
            catch (Exception e)
            {
                job.Output.Writer.TryComplete(e);
            }
            finally
            {
                lock (Sync) Running = 0;
            }
        }
    }

    private void Run(Job job)
    {
        CancellationToken token = job.Token;
        token.ThrowIfCancellationRequested();
        GenerationOptions options = job.Request.Options;
        Generator generator;
        IEnumerable<string> pieces;
        if (Llava != null)
        {
            LlavaPrompt prompt = ChatPromptBuilder.Build(Llava, job.Request, Ctx);
            StartThink(job, Llava.Tokenizer, prompt.TextIds);
            generator = new Generator(Llava.Decoder, Llava.Tokenizer, Ctx, ContextFor(Llava.Decoder.MaxPositions, prompt.Positions, options));
            pieces = generator.StreamEmbeddings(prompt.Embeddings, prompt.TextIds, options, token);
        }
        else
        {
            int[] ids = ChatPromptBuilder.Build(Text!, job.Request);
            StartThink(job, Text!.Tokenizer, ids);
            generator = new Generator(Text!.Decoder, Text.Tokenizer, Ctx, ContextFor(Text.Decoder.MaxPositions, ids.Length, options));
            pieces = generator.Stream(ids, options, token);
        }
        var text = new System.Text.StringBuilder();
        foreach (string piece in pieces)
        {
            text.Append(piece);
            job.Output.Writer.TryWrite(new ChatUpdate(piece));
        }
        GenerationResult result = generator.LastResult! with { Text = text.ToString() };
        // one sequence per decode step, one step per generated token
        if (DecodeStepObserved is { } observe)
        {
            for (int i = 0; i < result.GeneratedTokens; i++) observe(1);
        }
        job.Output.Writer.TryWrite(new ChatUpdate("", result));
    }
}
