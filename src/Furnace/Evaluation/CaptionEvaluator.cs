// COCO caption evaluation end to end, as pycocoevalcap/eval.py's COCOEvalCap.evaluate does it: tokenize
// references and predictions with the PTB tokenizer (unless already tokenized), then score BLEU-1..4, ROUGE-L
// and CIDEr-D over the images that have a prediction. METEOR and SPICE (Java programs in coco-caption) are not
// computed; see docs/metrics.md.
namespace Furnace.Evaluation;

public static class CaptionEvaluator
{
    /// <param name="references">Reference captions per image id.</param>
    /// <param name="predictions">One predicted caption per image id; every id must have references. References
    /// of images without a prediction are ignored (coco-caption evaluates cocoRes.getImgIds()), and they do not
    /// enter CIDEr's document frequencies.</param>
    /// <param name="pretokenized">Captions are already coco-tokenized (lowercase, space-separated, punctuation
    /// removed): score them as they are.</param>
    public static CaptionEvaluation Evaluate(
        IReadOnlyDictionary<string, IReadOnlyList<string>> references,
        IReadOnlyDictionary<string, string> predictions,
        bool pretokenized = false)
    {
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(predictions);
        if (predictions.Count == 0) throw new ArgumentException("no predictions to evaluate", nameof(predictions));

        var ids = new List<string>(predictions.Count);
        var candidates = new List<string>(predictions.Count);
        var refs = new List<IReadOnlyList<string>>(predictions.Count);
        var tokenizedPredictions = new Dictionary<string, string>(predictions.Count);
        var tokenizedReferences = new Dictionary<string, IReadOnlyList<string>>(predictions.Count);
        foreach (var (id, caption) in predictions)
        {
            if (!references.TryGetValue(id, out var imageRefs) || imageRefs.Count == 0)
                throw new ArgumentException($"image '{id}' has a prediction but no reference captions", nameof(references));
            string candidate = pretokenized ? caption : PtbTokenizer.Tokenize(caption);
            IReadOnlyList<string> tokenizedRefs = pretokenized ? imageRefs : imageRefs.Select(PtbTokenizer.Tokenize).ToArray();
            ids.Add(id);
            candidates.Add(candidate);
            refs.Add(tokenizedRefs);
            tokenizedPredictions[id] = candidate;
            tokenizedReferences[id] = tokenizedRefs;
        }

        var bleu = Bleu.Compute(candidates, refs);
        var rouge = RougeL.Compute(candidates, refs);
        var cider = CiderD.Compute(candidates, refs);

        var perImage = new Dictionary<string, CaptionScores>(ids.Count);
        for (int i = 0; i < ids.Count; i++)
        {
            var b = bleu.PerImage[i];
            perImage[ids[i]] = new CaptionScores(b[0], b[1], b[2], b[3], rouge.PerImage[i], cider.PerImage[i]);
        }
        var corpus = new CaptionScores(bleu.Corpus[0], bleu.Corpus[1], bleu.Corpus[2], bleu.Corpus[3], rouge.Corpus, cider.Corpus);
        return new CaptionEvaluation(corpus, ids, perImage, bleu, tokenizedPredictions, tokenizedReferences);
    }
}
