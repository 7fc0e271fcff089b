// Downloads and unpacks the packages the builders read, once: npm packages with `npm pack NAME@VERSION` (the
// tarball is unpacked here, nothing is installed), Debian packages with `apt-get download` + `dpkg-deb -x` (no
// root, nothing installed). Layout: ROOT/npm/NAME-VERSION/package/..., ROOT/deb/NAME_VERSION/usr/...; a folder
// is complete once its ".complete" marker exists, so an interrupted download is redone, never half-used.
using System.Formats.Tar;
using System.IO.Compression;

namespace Furnace.Data.Builders;

public sealed class PackageCache
{
    private const string Marker = ".complete";
    private readonly object _gate = new();
    private string? _rsvg;

    public PackageCache(string root, Action<string>? log = null)
    {
        Root = Path.GetFullPath(root);
        Log = log ?? (_ => { });
    }

    public string Root { get; }

    public Action<string> Log { get; }

    /// <summary>$XDG_CACHE_HOME/furnace/packages, else ~/.cache/furnace/packages.</summary>
    public static string DefaultRoot
    {
        get
        {
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            string baseDir = string.IsNullOrEmpty(xdg)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache")
                : xdg;
            return Path.Combine(baseDir, "furnace", "packages");
        }
    }

    /// <summary>The unpacked "package" folder of an npm package at an exact version.</summary>
    public string Npm(string name, string version)
    {
        string dir = Path.Combine(Root, "npm", $"{name.Replace('/', '_').TrimStart('@')}-{version}");
        string package = Path.Combine(dir, "package");
        if (File.Exists(Path.Combine(dir, Marker))) return package;
        lock (_gate)
        {
            if (File.Exists(Path.Combine(dir, Marker))) return package;
            string work = Fresh(dir + ".download");
            Log($"downloading npm {name}@{version}");
            ExternalTool.Check("npm", ["pack", $"{name}@{version}", "--pack-destination", work, "--silent"], work,
                TimeSpan.FromMinutes(10), "install Node.js and npm (Debian: apt-get install npm)");
            string tgz = Directory.GetFiles(work, "*.tgz").SingleOrDefault()
                ?? throw new FurnaceException($"npm pack {name}@{version} wrote no .tgz into {work}");
            string unpacked = Fresh(Path.Combine(work, "x"));
            using (var file = File.OpenRead(tgz))
            using (var gz = new GZipStream(file, CompressionMode.Decompress))
            {
                TarFile.ExtractToDirectory(gz, unpacked, overwriteFiles: true);
            }
            if (!Directory.Exists(Path.Combine(unpacked, "package")))
                throw new FurnaceException($"npm {name}@{version}: the tarball has no package/ folder");
            Publish(unpacked, dir);
            Directory.Delete(work, recursive: true);
            return package;
        }
    }

    /// <summary>The root of a Debian package's unpacked files (ROOT/usr/share/...). Version null = the candidate.</summary>
    public string Debian(string name, string? version)
    {
        string dir = Path.Combine(Root, "deb", version is null ? name : $"{name}_{version.Replace(':', '_')}");
        if (File.Exists(Path.Combine(dir, Marker))) return dir;
        lock (_gate)
        {
            if (File.Exists(Path.Combine(dir, Marker))) return dir;
            string work = Fresh(dir + ".download");
            Log($"downloading Debian {name}{(version is null ? "" : "=" + version)}");
            ExternalTool.Check("apt-get", ["download", version is null ? name : $"{name}={version}"], work, TimeSpan.FromMinutes(15),
                "a Debian-based system with apt is needed for this source");
            string deb = Directory.GetFiles(work, "*.deb").SingleOrDefault()
                ?? throw new FurnaceException($"apt-get download {name} wrote no .deb into {work}");
            string unpacked = Fresh(Path.Combine(work, "x"));
            ExternalTool.Check("dpkg-deb", ["-x", deb, unpacked], work, TimeSpan.FromMinutes(15), "dpkg-deb comes with Debian's dpkg");
            Publish(unpacked, dir);
            Directory.Delete(work, recursive: true);
            return dir;
        }
    }

    /// <summary>
    /// librsvg's rsvg-convert: $FURNACE_RSVG_CONVERT, else on PATH, else Debian's librsvg2-bin unpacked into the cache
    /// (it runs against the system's librsvg2-2).
    /// </summary>
    public string RsvgConvert()
    {
        if (_rsvg is not null) return _rsvg;
        string? found = Environment.GetEnvironmentVariable("FURNACE_RSVG_CONVERT") is { Length: > 0 } env ? env : ExternalTool.OnPath("rsvg-convert");
        if (found is null)
        {
            string root = Debian("librsvg2-bin", null);
            found = Path.Combine(root, "usr", "bin", "rsvg-convert");
            if (!File.Exists(found)) throw new FurnaceException($"{found}: Debian librsvg2-bin has no rsvg-convert");
        }
        var r = ExternalTool.Run(found, ["--version"], missingHint: "install librsvg2-bin (apt-get install librsvg2-bin)");
        if (r.ExitCode != 0)
            throw new FurnaceException($"{found} does not run ({r.Stderr.Trim()}); install it with apt-get install librsvg2-bin");
        return _rsvg = found;
    }

    private static string Fresh(string dir)
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static void Publish(string unpacked, string dir)
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(Path.GetDirectoryName(dir)!);
        Directory.Move(unpacked, dir);
        File.WriteAllText(Path.Combine(dir, Marker), DateTime.UtcNow.ToString("O"));
    }
}
