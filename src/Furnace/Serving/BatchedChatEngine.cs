// A continuously batched IChatEngine (Orca, Yu et al. 2022; vLLM's and llama.cpp server's scheduling): one scheduler
// thread owns the model. Each round it admits waiting requests up to MaxBatch (each request's images encoded in its own
// vision pass, as the sequential engine does, so that its features are bit-identical), runs one prefill chunk of a
// newly admitted sequence, then one shared decode step for every sequence that is generating (IDecoder.ForwardBatch:
// each weight read once for all of them; Llama family and DeepSeek MLA + MoE alike). Each sequence keeps its own KV
// cache, sampler, stop filter and UTF-8 decoder (GenerationSequence) and streams to its own channel; finished or
// cancelled sequences leave at once and their slot goes to the next request. Greedy output equals the sequential
// engine's: prefill chunks match Generator's, and batched decode logits equal single-sequence ones to rounding.
using System.Diagnostics;
using System.Text;
using Furnace.Formats.Images;
using Furnace.Formats.Tokenizers;
using Furnace.Generation;
using Furnace.Models;
using Furnace.Models.Vlm;

namespace Furnace.Serving;

public sealed class BatchedChatEngine : QueuedChatEngine
{
    // positions per prefill chunk: Generator's chunk, so that prefill logits match the sequential engine's exactly
    private const int PrefillChunk = 64;

    private readonly IDecoder _decoder;
    private readonly Tokenizer _tokenizer;
    // scheduler-thread state: the admitted sequences and the step's gathered rows
    private readonly List<Sequence> _active = [];
    private readonly List<Job> _admitted = [];
    private readonly IDecoderBatch _batch;
    private readonly int[] _stepTokens;
    private readonly IDecoderState[] _stepStates;
    private readonly Sequence[] _stepSequences;

    public BatchedChatEngine(LlavaModel model, ChatEngineOptions options, bool ownsModel = true)
        : this(model, null, model.Decoder, model.Tokenizer, model.Source, options, ownsModel)
    {
    }

    public BatchedChatEngine(LanguageModel model, ChatEngineOptions options, bool ownsModel = true)
        : this(null, model, model.Decoder, model.Tokenizer, model.Path, options, ownsModel)
    {
    }

    // MaxBatch slots: the sequences admitted at once
    private BatchedChatEngine(LlavaModel? llava, LanguageModel? text, IDecoder decoder, Tokenizer tokenizer, string source, ChatEngineOptions options, bool ownsModel)
        : base(llava, text, source, options, ownsModel, slots: options.MaxBatch)
    {
        _decoder = decoder;
        _tokenizer = tokenizer;
        int b = options.MaxBatch;
        _batch = decoder.NewDecoderBatch(b);
        _stepTokens = new int[b];
        _stepStates = new IDecoderState[b];
        _stepSequences = new Sequence[b];
        Start("furnace-batch-scheduler");
    }

    public int MaxBatch => Options.MaxBatch;

    /// <summary>Sequences admitted and not yet finished (prefilling or generating).</summary>
    public int ActiveCount
    {
        get
        {
            lock (Sync) return Running;
        }
    }

    // so an idle wait notices the cancelled sequence
    private protected override void OnRunningJobCancelled() => Wake();

    private protected override void WorkLoop()
    {
        try
        {
            while (true)
            {
                List<Job> admitted = _admitted;
                admitted.Clear();
                lock (Sync)
                {
                    if (Disposed) break;
                    while (_active.Count + admitted.Count < Options.MaxBatch && Waiting.First is { } first)
                    {
                        Waiting.RemoveFirst();
                        admitted.Add(first.Value);
                    }
                    Running = _active.Count + admitted.Count;
                }
                if (admitted.Count > 0) Admit(admitted);
                DropCancelled();
                if (_active.Count == 0)
                {
                    lock (Sync) Running = 0;
                    WaitForWork();
                    continue;
                }
                // prefill one chunk of a new sequence between decode steps; when nobody is generating, prefill on
                bool decoding;
                do
                {
                    PrefillStep();
                    decoding = _active.Exists(s => s.Decoding);
                }
                while (!decoding && _active.Exists(s => !s.Prefilled));
                if (decoding) DecodeStep();
            }
        }
        catch (Exception e)
        {
            foreach (Sequence s in _active) s.Job.Output.Writer.TryComplete(e);
            _active.Clear();
            foreach (Job j in DrainWaiting()) j.Output.Writer.TryComplete(e);
            return;
        }
        foreach (Sequence s in _active) s.Job.Output.Writer.TryComplete(new ObjectDisposedException(nameof(BatchedChatEngine)));
        _active.Clear();
    }

    // builds the prompts of newly admitted requests, each with its own images through the vision tower
    private void Admit(List<Job> jobs)
    {
        var prepared = new List<(Job Job, string? Rendered, List<RgbImage>? Images, int[]? Ids)>();
        foreach (Job job in jobs)
        {
            if (job.Token.IsCancellationRequested)
            {
                job.Output.Writer.TryComplete(new OperationCanceledException(job.Token));
                continue;
            }
            try
            {
                if (Llava != null)
                {
                    var (messages, images) = ChatPromptBuilder.Flatten(job.Request.Messages, acceptsImages: true);
                    string? eos = _tokenizer.EosId is int e ? _tokenizer.TokenText(e) : null;
                    prepared.Add((job, ChatPromptBuilder.Render(Llava.Template, messages, eos), images, null));
                }
                else prepared.Add((job, null, null, ChatPromptBuilder.Build(Text!, job.Request)));
            }
            catch (Exception e)
            {
                job.Output.Writer.TryComplete(e);
            }
        }
        foreach (var p in prepared)
        {
            try
            {
                Sequence s;
                if (Llava != null)
                {
                    // each request's images in their own vision pass, exactly the call the sequential engine makes:
                    // one pass over several requests' images is not bit-identical per image (the float GEMM takes
                    // over from the dot-product kernel at 128 rows, e.g. three ViT-B/32 images), and random or
                    // near-tied logits turn those rounding differences into different greedy answers
                    LlavaPrompt prompt = Llava.BuildPrompt(p.Rendered!, p.Images!, Ctx);
                    StartThink(p.Job, _tokenizer, prompt.TextIds);
                    s = NewSequence(p.Job, prompt.Positions, prompt.TextIds, prompt.Embeddings, null);
                }
                else
                {
                    StartThink(p.Job, _tokenizer, p.Ids!);
                    s = NewSequence(p.Job, p.Ids!.Length, p.Ids, null, p.Ids);
                }
                _active.Add(s);
            }
            catch (Exception e)
            {
                p.Job.Output.Writer.TryComplete(e);
            }
        }
    }

    private Sequence NewSequence(Job job, int positions, int[] history, float[]? embeddings, int[]? ids)
    {
        GenerationOptions options = job.Request.Options;
        // as SequentialChatEngine + Generator size it: room for the prompt and max tokens within the engine's context
        int contextLength = Math.Min(ContextFor(_decoder.MaxPositions, positions, options), _decoder.MaxPositions);
        if (positions >= contextLength)
            throw new FurnaceException($"the prompt has {positions} tokens, which leaves no room in the context of {contextLength} tokens");
        IDecoderState state = _decoder.NewDecoderState(Math.Min(contextLength, positions + options.MaxTokens), maxBatch: Math.Min(PrefillChunk, positions));
        var gen = new GenerationSequence(_tokenizer, _decoder.VocabSize, options, history, positions, state.ContextLength);
        return new Sequence(job, state, gen, positions, embeddings, ids);
    }

    private void DropCancelled()
    {
        for (int i = _active.Count - 1; i >= 0; i--)
        {
            Job job = _active[i].Job;
            if (!job.Token.IsCancellationRequested) continue;
            job.Output.Writer.TryComplete(new OperationCanceledException(job.Token));
            _active.RemoveAt(i);
        }
    }

    private void PrefillStep()
    {
        Sequence? s = _active.Find(x => !x.Prefilled);
        if (s == null) return;
        int n = Math.Min(s.State.MaxBatch, s.Positions - s.Done);
        s.Clock.Start();
        if (s.Embeddings != null)
        {
            int dim = _decoder.Dim;
            _decoder.ForwardEmbeddings(s.Embeddings.AsSpan(s.Done * dim, n * dim), s.State, Ctx);
        }
        else _decoder.Forward(s.Ids.AsSpan(s.Done, n), s.State, Ctx);
        s.Done += n;
        s.Clock.Stop();
        if (!s.Prefilled) return;
        s.PrefillTime = s.Clock.Elapsed;
        s.Clock.Restart();
        s.Embeddings = null;
        Emit(s, s.Gen.Next(s.State.Logits.AsSpan(0, _decoder.VocabSize)));
    }

    private void DecodeStep()
    {
        int n = 0;
        foreach (Sequence s in _active)
        {
            if (!s.Decoding) continue;
            _stepTokens[n] = s.Gen.LastToken;
            _stepStates[n] = s.State;
            _stepSequences[n++] = s;
        }
        _decoder.ForwardBatch(_stepTokens.AsSpan(0, n), _stepStates.AsSpan(0, n), _batch, Ctx);
        DecodeStepObserved?.Invoke(n);
        for (int i = 0; i < n; i++)
        {
            Sequence s = _stepSequences[i];
            Emit(s, s.Gen.Next(_batch.LogitsOf(i)));
            _stepSequences[i] = null!;
            _stepStates[i] = null!;
        }
    }

    // streams a piece; a finished sequence flushes, sends its result and leaves
    private void Emit(Sequence s, string piece)
    {
        if (piece.Length > 0)
        {
            s.Text.Append(piece);
            s.Job.Output.Writer.TryWrite(new ChatUpdate(piece));
        }
        if (!s.Gen.Done) return;
        string tail = s.Gen.Flush();
        if (tail.Length > 0)
        {
            s.Text.Append(tail);
            s.Job.Output.Writer.TryWrite(new ChatUpdate(tail));
        }
        var result = new GenerationResult(s.Text.ToString(), s.Positions, s.Gen.Generated, s.Gen.FinishReason, s.PrefillTime, s.Clock.Elapsed) { TokenIds = s.Gen.TokenIds };
        s.Job.Output.Writer.TryWrite(new ChatUpdate("", result));
        s.Job.Output.Writer.TryComplete();
        _active.Remove(s);
    }

    // one admitted request: its KV cache, its generation state and its prompt until prefilled
    private sealed class Sequence(Job job, IDecoderState state, GenerationSequence gen, int positions, float[]? embeddings, int[]? ids)
    {
        public Job Job { get; } = job;

        public IDecoderState State { get; } = state;

        public GenerationSequence Gen { get; } = gen;

        public int Positions { get; } = positions;

        public float[]? Embeddings { get; set; } = embeddings;

        public int[]? Ids { get; } = ids;

        /// <summary>Prompt positions prefilled so far.</summary>
        public int Done { get; set; }

        public bool Prefilled => Done == Positions;

        public bool Decoding => Prefilled && !Gen.Done;

        public StringBuilder Text { get; } = new();

        public Stopwatch Clock { get; } = new();

        public TimeSpan PrefillTime { get; set; }
    }
}
