// The web page at / in a real browser: Debian's chromium driven by Playwright's .NET package (its bundled node driver;
// no browser download), headless with a fresh profile. Choose an image, leave the question empty (caption), click
// Ask, and the streamed answer that appears equals LlavaModel.Generate on the caption instruction.
using Furnace.Generation;
using Furnace.Models.Vlm;
using Microsoft.Playwright;

namespace Furnace.Server.Tests;

[Collection(TinyLlavaCollection.Name)]
public sealed class WebPageTests(TinyLlavaFixture f)
{
    [BrowserFact]
    public async Task Page_CaptionAnImage_StreamedAnswerAppears()
    {
        const int maxTokens = 8;
        string imagePath = f.Dir.File("page.png");
        await File.WriteAllBytesAsync(imagePath, f.Png);
        GenerationResult expected;
        using (var ctx = new Furnace.Tensors.KernelContext(1))
            expected = f.Oracle.Generate("<image>\n" + CaptionInstruction.English, [f.Image], new GenerationOptions { MaxTokens = maxTokens, Sampling = SamplingOptions.Greedy }, ctx);

        Assert.NotEmpty(expected.Text); // else the check below would prove nothing

        string profile = f.Dir.File("chromium-profile-" + Guid.NewGuid().ToString("N"));
        using IPlaywright playwright = await Playwright.CreateAsync();
        // a fresh --user-data-dir: Playwright insists on passing it itself, as the persistent context's directory
        await using IBrowserContext browser = await playwright.Chromium.LaunchPersistentContextAsync(profile, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = BrowserFactAttribute.Chromium,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync"],
            Timeout = 60_000,
        });
        IPage page = await browser.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        await page.GotoAsync(f.Server.Address.ToString());
        await page.SetInputFilesAsync("#file", imagePath);
        await page.WaitForSelectorAsync("#preview:not([hidden])");
        await page.FillAsync("#max-tokens", maxTokens.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.ClickAsync("#ask");
        await page.WaitForFunctionAsync("() => document.getElementById('status').textContent.startsWith('done')", null, new PageWaitForFunctionOptions { Timeout = 60_000 });
        Assert.Equal(expected.Text, await page.TextContentAsync("#answer"));
        Assert.Equal($"done ({expected.FinishReason})", await page.TextContentAsync("#status"));
        Assert.Empty(errors);
    }
}
