// A light query-language detector for the drift signals (no model): the
// dominant Unicode script decides non-Latin languages; Latin text is scored
// against short stopword profiles plus a few telltale letters. Good enough to
// see a language mix shift; not a general-purpose identifier.

/** Every value `detectLanguage` returns ("und": undetermined). Bounded, so it can be a metric category. */
export const LANGUAGES = ["en", "de", "fr", "es", "it", "pt", "nl", "ru", "el", "ar", "he", "hi", "th", "zh", "ja", "ko", "und"] as const;
export type Language = (typeof LANGUAGES)[number];

const SCRIPTS: Array<[Language, RegExp]> = [
  ["ru", /\p{Script=Cyrillic}/gu],
  ["el", /\p{Script=Greek}/gu],
  ["ar", /\p{Script=Arabic}/gu],
  ["he", /\p{Script=Hebrew}/gu],
  ["hi", /\p{Script=Devanagari}/gu],
  ["th", /\p{Script=Thai}/gu],
  ["ko", /\p{Script=Hangul}/gu],
  ["ja", /[\p{Script=Hiragana}\p{Script=Katakana}]/gu],
  ["zh", /\p{Script=Han}/gu],
];
const LATIN = /\p{Script=Latin}/gu;

type LatinLanguage = "en" | "de" | "fr" | "es" | "it" | "pt" | "nl";

const STOPWORDS: Record<LatinLanguage, ReadonlySet<string>> = {
  en: words("the a an and or of to in is are was were be been it this that these those what which who how why when where does do did can could should would will with for on at from by not my your i you we they there their has have"),
  de: words("der die das und oder ist sind war ein eine einen nicht mit für auf von zu wie was wer warum wann wo ich du wir sie es den dem des im ist auch kann können wird werden bei nach über"),
  fr: words("le la les et ou est sont était un une des du de pas avec pour sur dans que qui quoi comment pourquoi quand où je tu nous vous ils elle il ce cette ces au aux peut être"),
  es: words("el la los las y o es son era un una unos unas del de no con para por en que qué quién cómo por qué cuándo dónde yo tú nosotros ellos ella este esta estos puede ser hay"),
  it: words("il lo la gli le e o è sono era un una dei degli delle del di non con per su in che chi come perché quando dove io tu noi voi loro questo questa può essere"),
  pt: words("o a os as e ou é são era um uma uns umas do da dos das de não com para por em que quem como porque quando onde eu você nós eles ela este esta pode ser há"),
  nl: words("de het een en of is zijn was niet met voor op van te in dat die wat wie hoe waarom wanneer waar ik jij wij zij hij dit deze kan worden"),
};

/** Letters that (nearly) only one of the profiled languages uses. */
const TELLTALES: Array<[LatinLanguage, RegExp]> = [
  ["de", /[äöüß]/g],
  ["es", /[ñ¿¡]/g],
  ["pt", /[ãõ]/g],
  ["fr", /[èêëœîûù]/g],
  ["it", /[ìò]/g],
];

function words(s: string): ReadonlySet<string> {
  return new Set(s.split(/\s+/).filter(Boolean));
}

function count(text: string, re: RegExp): number {
  re.lastIndex = 0;
  let n = 0;
  while (re.exec(text)) n++;
  return n;
}

/** The language of `text`, from at most its first 2 000 characters. */
export function detectLanguage(input: string): Language {
  const text = input.slice(0, 2_000).toLowerCase();
  const latin = count(text, LATIN);
  let best: Language = "und";
  let bestCount = 0;
  for (const [lang, re] of SCRIPTS) {
    const n = count(text, re);
    if (n > bestCount) {
      best = lang;
      bestCount = n;
    }
  }
  // Japanese mixes kana with Han: any kana among the CJK letters means Japanese.
  if (best === "zh" && count(text, SCRIPTS.find(([l]) => l === "ja")![1]) > 0) best = "ja";
  if (bestCount > latin) return best;
  if (latin === 0) return "und";
  // Latin words without a profile's stopwords (product names, code) beside another script: that script.
  const fromLatin = latinLanguage(text);
  return fromLatin === "und" && bestCount > 0 ? best : fromLatin;
}

function latinLanguage(text: string): Language {
  const tokens = text.split(/[^\p{L}']+/u).filter(Boolean);
  const scores = new Map<LatinLanguage, number>();
  for (const [lang, set] of Object.entries(STOPWORDS) as Array<[LatinLanguage, ReadonlySet<string>]>) {
    let s = 0;
    for (const t of tokens) if (set.has(t)) s++;
    scores.set(lang, s);
  }
  for (const [lang, re] of TELLTALES) scores.set(lang, scores.get(lang)! + 2 * count(text, re));
  let best: Language = "und";
  let bestScore = 0;
  for (const [lang, s] of scores) {
    if (s > bestScore) {
      best = lang;
      bestScore = s;
    }
  }
  return best;
}
