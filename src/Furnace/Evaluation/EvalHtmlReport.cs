// report.html of `furnace eval --model`: one self-contained page (inline CSS and JS, thumbnails as data: URLs, no
// network) for a person to read a run — the model and dataset, the corpus scores, and one row per image with its
// thumbnail, generated caption, references and per-image scores, worst CIDEr-D first; a click on a column header
// sorts by it. Charts (EvalReportCharts: score distribution, latency histogram) sit beside the scores table as PNG
// data: URLs. Every text from a dataset or a model is HTML-escaped.
using System.Globalization;
using System.Text;

namespace Furnace.Evaluation;

public static class EvalHtmlReport
{
    /// <param name="report">The scored run; its per-image entries are the rows.</param>
    /// <param name="references">Reference captions by image id (as written in the dataset).</param>
    /// <param name="thumbnails">A data: URL per image id; images without one get an empty cell.</param>
    /// <param name="facts">Label/value lines of the header (model, dataset, prompt, timings...), in order.</param>
    /// <param name="charts">Pictures shown after the scores (a caption and a data: URL each), in order.</param>
    public static string Render(string title, EvalReport report, IReadOnlyDictionary<string, IReadOnlyList<string>> references,
        IReadOnlyDictionary<string, string> thumbnails, IReadOnlyList<(string Label, string Value)> facts,
        IReadOnlyList<(string Caption, string DataUrl)>? charts = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(thumbnails);
        ArgumentNullException.ThrowIfNull(facts);
        var perImage = report.PerImage ?? [];
        bool clip = perImage.Any(p => p.ClipScore is not null);
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>").Append(Escape(title)).Append("</title>\n");
        sb.Append("<style>\n").Append(Css).Append("</style>\n</head>\n<body>\n");
        sb.Append("<h1>").Append(Escape(title)).Append("</h1>\n<table class=\"facts\">\n");
        foreach (var (label, value) in facts) sb.Append("<tr><th>").Append(Escape(label)).Append("</th><td>").Append(Escape(value)).Append("</td></tr>\n");
        sb.Append("</table>\n<h2>Scores</h2>\n<table class=\"scores\">\n<tr>");
        var s = report.Scores;
        var scores = new List<(string, double)>
        {
            ("BLEU-1", s.Bleu1), ("BLEU-2", s.Bleu2), ("BLEU-3", s.Bleu3), ("BLEU-4", s.Bleu4), ("ROUGE-L", s.RougeL), ("CIDEr-D", s.CiderD),
        };
        if (s.ClipScore is double cs) scores.Add(("CLIPScore", cs));
        if (s.RefClipScore is double rcs) scores.Add(("RefCLIPScore", rcs));
        foreach (var (name, _) in scores) sb.Append("<th>").Append(name).Append("</th>");
        sb.Append("</tr>\n<tr>");
        foreach (var (_, value) in scores) sb.Append("<td>").Append(F3(value)).Append("</td>");
        sb.Append("</tr>\n</table>\n");
        if (charts is { Count: > 0 })
        {
            sb.Append("<div class=\"charts\">\n");
            foreach (var (caption, url) in charts)
                sb.Append("<figure><img src=\"").Append(Escape(url)).Append("\" alt=\"").Append(Escape(caption)).Append("\"><figcaption>")
                    .Append(Escape(caption)).Append("</figcaption></figure>\n");
            sb.Append("</div>\n");
        }

        sb.Append("<h2>Images (").Append(perImage.Count.ToString(CultureInfo.InvariantCulture))
            .Append(")</h2>\n<p class=\"hint\">Worst CIDEr-D first; click a column header to sort.</p>\n<table class=\"images\" id=\"images\">\n<thead><tr>");
        sb.Append("<th data-k=\"n\">#</th><th>image</th><th data-k=\"s\">id</th><th data-k=\"s\">caption</th><th>references</th>");
        sb.Append("<th data-k=\"n\">BLEU-4</th><th data-k=\"n\">ROUGE-L</th><th data-k=\"n\" data-dir=\"asc\">CIDEr-D</th>");
        if (clip) sb.Append("<th data-k=\"n\">CLIPScore</th>");
        sb.Append("</tr></thead>\n<tbody>\n");
        var order = perImage.Select((p, i) => (p, i)).OrderBy(x => x.p.CiderD).ThenBy(x => x.i);
        foreach (var (p, i) in order)
        {
            sb.Append("<tr><td data-v=\"").Append((i + 1).ToString(CultureInfo.InvariantCulture)).Append("\">")
                .Append((i + 1).ToString(CultureInfo.InvariantCulture)).Append("</td><td>");
            if (thumbnails.TryGetValue(p.ImageId, out string? url))
                sb.Append("<img src=\"").Append(Escape(url)).Append("\" alt=\"").Append(Escape(p.ImageId)).Append("\">");
            sb.Append("</td><td>").Append(Escape(p.ImageId)).Append("</td><td class=\"caption\">").Append(Escape(p.Caption)).Append("</td><td><ul>");
            if (references.TryGetValue(p.ImageId, out var refs))
                foreach (string r in refs) sb.Append("<li>").Append(Escape(r)).Append("</li>");
            sb.Append("</ul></td>");
            Score(sb, p.Bleu4);
            Score(sb, p.RougeL);
            Score(sb, p.CiderD);
            if (clip) Score(sb, p.ClipScore);
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody>\n</table>\n<p class=\"hint\">Written by furnace eval. Per-image BLEU is coco-caption's per-image BLEU (cocoEval.evalImgs); the corpus BLEU above is not their mean.</p>\n");
        sb.Append("<script>\n").Append(Script).Append("</script>\n</body>\n</html>\n");
        return sb.ToString();
    }

    /// <summary>Escapes text for HTML element content and quoted attribute values.</summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder(text.Length + 16);
        foreach (char c in text)
        {
            sb.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => null,
            } ?? c.ToString());
        }
        return sb.ToString();
    }

    private static void Score(StringBuilder sb, double? value)
    {
        if (value is not double v)
        {
            sb.Append("<td data-v=\"\"></td>");
            return;
        }
        string r = v.ToString("R", CultureInfo.InvariantCulture);
        sb.Append("<td class=\"num\" data-v=\"").Append(r).Append("\">").Append(F3(v)).Append("</td>");
    }

    private static string F3(double v) => v.ToString("F3", CultureInfo.InvariantCulture);

    private const string Css = """
        body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em; color: #222; }
        h1 { font-size: 1.4em; margin-bottom: 0.3em; }
        h2 { font-size: 1.15em; margin-top: 1.4em; }
        table { border-collapse: collapse; }
        th, td { border: 1px solid #ddd; padding: 4px 8px; vertical-align: top; text-align: left; }
        .facts th { background: #f6f6f6; font-weight: 600; }
        .scores td { text-align: right; font-variant-numeric: tabular-nums; }
        .images th[data-k] { cursor: pointer; user-select: none; background: #f0f4fa; }
        .images th[data-dir="asc"]::after { content: " \25B2"; }
        .images th[data-dir="desc"]::after { content: " \25BC"; }
        .images td.num { text-align: right; font-variant-numeric: tabular-nums; }
        .images td.caption { max-width: 22em; font-weight: 600; }
        .images ul { margin: 0; padding-left: 1.1em; max-width: 30em; }
        .images img { max-width: 128px; max-height: 128px; display: block; }
        .hint { color: #666; font-size: 0.9em; }
        .charts { display: flex; flex-wrap: wrap; gap: 1em; margin-top: 1em; }
        .charts figure { margin: 0; }
        .charts img { max-width: 640px; width: 100%; display: block; border: 1px solid #eee; }
        .charts figcaption { color: #666; font-size: 0.9em; }

        """;

    private const string Script = """
        document.querySelectorAll('#images th[data-k]').forEach(function (th) {
          th.addEventListener('click', function () {
            var table = th.closest('table'), body = table.tBodies[0], col = th.cellIndex;
            var numeric = th.getAttribute('data-k') === 'n', asc = th.getAttribute('data-dir') !== 'asc';
            table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('data-dir'); });
            th.setAttribute('data-dir', asc ? 'asc' : 'desc');
            var key = function (row) { var c = row.cells[col]; return c.hasAttribute('data-v') ? c.getAttribute('data-v') : c.textContent; };
            var rows = Array.prototype.slice.call(body.rows);
            rows.sort(function (x, y) {
              var a = key(x), b = key(y), r;
              if (numeric) { var fa = parseFloat(a), fb = parseFloat(b); r = (isNaN(fa) ? -Infinity : fa) - (isNaN(fb) ? -Infinity : fb); if (isNaN(r)) r = 0; }
              else r = a.localeCompare(b);
              return asc ? r : -r;
            });
            rows.forEach(function (row) { body.appendChild(row); });
          });
        });

        """;
}
