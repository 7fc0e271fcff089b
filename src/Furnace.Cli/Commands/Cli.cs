// Shared plumbing of the verbs: running an action with user errors turned into "furnace: error: ..." and
// exit code 1 (2 for usage errors is System.CommandLine's own), and common options.
using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Furnace.Cli.Commands;

internal static class Cli
{
    public static int Run(Func<int> action)
    {
        try
        {
            return action();
        }
        catch when (StopProgress())
        {
            throw; // not reached: the filter ends the progress bars (so an error starts on its own line) and declines
        }
        catch (FurnaceException e)
        {
            return Fail(e.Message);
        }
        catch (FileNotFoundException e)
        {
            return Fail(e.Message);
        }
        catch (DirectoryNotFoundException e)
        {
            return Fail(e.Message);
        }
        catch (UnauthorizedAccessException e)
        {
            return Fail(e.Message);
        }
        catch (IOException e)
        {
            return Fail(e.Message);
        }
        catch (OperationCanceledException)
        {
            return Fail("cancelled");
        }
        finally
        {
            ProgressBars.Stop();
        }
    }

    private static bool StopProgress()
    {
        ProgressBars.Stop();
        return false;
    }

    /// <summary>JSON output for people and tools: non-ASCII text (Chinese, emoji) stays readable.</summary>
    public static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static int Fail(string message)
    {
        Console.Out.Flush();
        Console.Error.WriteLine($"furnace: error: {message}");
        return 1;
    }

    public static Option<string> ModelOption(bool required = true) => new("--model", "-m")
    {
        Description = "Model: a .gguf file or a Hugging Face directory (config.json + *.safetensors + tokenizer.json)",
        Required = required,
    };

    /// <summary>--think show|hide: R1-style reasoning (&lt;think&gt;…&lt;/think&gt;) as generated, or left out (see ThinkFilter).</summary>
    public static Option<string> ThinkOption() => new("--think")
    {
        Description = "R1-style reasoning (<think>…</think>): show (as generated) or hide (the answer only; --json adds reasoning_content)",
        DefaultValueFactory = _ => "show",
    };

    /// <summary>Adds reasoning_content to a --json object when --think hide took a reasoning block out.</summary>
    public static Dictionary<string, object> WithReasoning(this Dictionary<string, object> fields, Furnace.Generation.GenerationResult result)
    {
        if (result.Reasoning != null) fields["reasoning_content"] = result.Reasoning;
        return fields;
    }

    public static Option<int> ThreadsOption() => new("--threads", "-t")
    {
        Description = "CPU threads for the kernels (default: all cores)",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    };

    public static int CheckThreads(int threads) =>
        threads is >= 1 and <= 1024 ? threads : throw new FurnaceException($"--threads {threads} must be between 1 and 1024");
}
