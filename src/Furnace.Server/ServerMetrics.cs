// The server's Prometheus series (prometheus-net, in a registry of its own so several servers in one process — the
// tests — do not share counters): requests by route and status, request latency, time to first token, prompt and
// generated tokens, decode speed, queue depth (read at scrape time) and the engine's batch sizes when it reports them.
using Furnace.Serving;
using Prometheus;

namespace Furnace.Server;

public sealed class ServerMetrics
{
    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
    private readonly Counter _requests;
    private readonly Histogram _latency;
    private readonly Histogram _ttft;
    private readonly Counter _promptTokens;
    private readonly Counter _generatedTokens;
    private readonly Histogram _tokensPerSecond;
    private readonly Gauge _queueDepth;
    private readonly Gauge _inFlight;
    private readonly Histogram _batchSize;

    public ServerMetrics(IChatEngine engine)
    {
        var f = Metrics.WithCustomRegistry(_registry);
        _requests = f.CreateCounter("furnace_http_requests_total", "HTTP requests by route, method and status code.",
            new CounterConfiguration { LabelNames = ["route", "method", "status"] });
        _latency = f.CreateHistogram("furnace_http_request_duration_seconds", "HTTP request latency (whole response, streaming included).",
            new HistogramConfiguration { LabelNames = ["route"], Buckets = Histogram.ExponentialBuckets(0.005, 2, 16) });
        _ttft = f.CreateHistogram("furnace_time_to_first_token_seconds", "Time from receiving a chat request to its first generated text (queueing, image decoding, prefill).",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.005, 2, 16) });
        _promptTokens = f.CreateCounter("furnace_prompt_tokens_total", "Prompt positions processed (image positions included).");
        _generatedTokens = f.CreateCounter("furnace_generated_tokens_total", "Tokens generated; rate() of it is the server's tokens per second.");
        _tokensPerSecond = f.CreateHistogram("furnace_decode_tokens_per_second", "Decode speed of each finished request, tokens per second.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.5, 2, 14) });
        _queueDepth = f.CreateGauge("furnace_queue_depth", "Chat requests waiting for a slot.");
        _inFlight = f.CreateGauge("furnace_requests_in_flight", "Chat completion requests being answered.");
        _batchSize = f.CreateHistogram("furnace_batch_size", "Sequences per decode step, as the engine reports them.",
            new HistogramConfiguration { Buckets = [1, 2, 4, 8, 16, 32, 64, 128] });
        _registry.AddBeforeCollectCallback(() => _queueDepth.Set(engine.QueueDepth));
        if (engine is IChatEngineMetrics observed) observed.DecodeStepObserved = size => _batchSize.Observe(size);
    }

    public void Request(string route, string method, int status, TimeSpan elapsed)
    {
        _requests.WithLabels(route, method, status.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
        _latency.WithLabels(route).Observe(elapsed.TotalSeconds);
    }

    public void FirstToken(TimeSpan sinceArrival) => _ttft.Observe(sinceArrival.TotalSeconds);

    public void Finished(Furnace.Generation.GenerationResult result)
    {
        _promptTokens.Inc(result.PromptTokens);
        _generatedTokens.Inc(result.GeneratedTokens);
        if (result.GeneratedTokens > 0 && result.DecodeTime > TimeSpan.Zero) _tokensPerSecond.Observe(result.DecodeTokensPerSecond);
    }

    public IDisposable TrackInFlight() => _inFlight.TrackInProgress();

    public Task WriteAsync(Stream output, CancellationToken cancellation) => _registry.CollectAndExportAsTextAsync(output, cancellation);
}
