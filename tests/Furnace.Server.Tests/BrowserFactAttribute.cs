// A fact that needs Debian's chromium (/usr/bin/chromium; scripts/test.sh installs it): skipped, saying why, without it.
namespace Furnace.Server.Tests;

public sealed class BrowserFactAttribute : FactAttribute
{
    public const string Chromium = "/usr/bin/chromium";

    public BrowserFactAttribute()
    {
        if (!File.Exists(Chromium)) Skip = $"{Chromium} is missing (apt-get install chromium; scripts/test.sh does it)";
    }
}
