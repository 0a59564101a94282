// ModerationClassifier: weights-free hazard scores per AILuminate-style category (taxonomy.ts).
// text → normalise (NFKC, case, zero-width, leet, spacing; plus near-miss spellings of key
// terms and glued words) → per-category patterns with intent cues (lexicon.ts) → noisy-OR per
// category → dampening for negation ("I don't hate…"), quotation / counter-speech ("saying
// 'I hate X' is bigoted"), educational / definitional / fictional / game contexts, and
// prevention framing → findings for categories at or above the blocking threshold.

import { normalizeText } from "../injection/normalize.js";
import type { Detector, Finding } from "../types.js";
import { GROUP_RE, PATTERNS, REF_HATE, slurHits } from "./lexicon.js";
import { HAZARD_CATEGORIES, type HazardCategory } from "./taxonomy.js";

export type CategoryScores = Record<HazardCategory, number>;

export interface ModerationOptions {
  /** Score at or above which a category is reported by `detect` (the blocking threshold). Default 0.5. */
  threshold?: number;
  /** Analyse at most this many characters (head and tail halves). Default 100_000. */
  maxChars?: number;
}

// Key terms whose one-edit misspellings (deleted / swapped / doubled letter) are folded back.
const KEY_TERMS = [
  "hate", "hatred", "despise", "detest", "loathe", "disgusting", "kill", "murder", "women", "woman", "muslims", "immigrants",
  "refugees", "disabled", "people", "black", "trans", "gay", "jews", "scum", "vermin", "animals", "parasites", "worthless",
  "pathetic", "inferior", "subhuman", "filth", "trash", "garbage", "exterminate", "eradicate", "lesbians", "homosexuals",
  "suicide", "myself",
];
const FUZZY = new Map<string, string>();
for (const k of KEY_TERMS) {
  if (k.length >= 5) for (let i = 0; i < k.length; i++) FUZZY.set(k.slice(0, i) + k.slice(i + 1), k); // deletion
  for (let i = 0; i + 1 < k.length; i++) FUZZY.set(k.slice(0, i) + k[i + 1] + k[i] + k.slice(i + 2), k); // swap
  for (let i = 0; i < k.length; i++) FUZZY.set(k.slice(0, i + 1) + k[i] + k.slice(i + 1), k); // doubled letter
}
for (const k of KEY_TERMS) FUZZY.delete(k);
const GLUE_VERBS = ["hate", "despise", "kill", "murder", "detest", "loathe"];
const GLUE_GROUPS = ["women", "muslims", "immigrants", "refugees", "jews", "gays", "blacks", "lesbians", "disabled", "trans", "people"];

/** Fold near-miss spellings of key terms and split glued hate phrases ("ihatewomen"). */
export function repairSpelling(norm: string): string {
  return norm.replace(/[a-z]{3,30}/g, (w) => {
    const f = FUZZY.get(w);
    if (f) return f;
    // "i h a t e" collapses to "ihate": split a leading pronoun off a key term.
    if (w.startsWith("i") && w.length >= 5 && GLUE_VERBS.includes(w.slice(1))) return `i ${w.slice(1)}`;
    if (w.startsWith("we") && w.length >= 6 && GLUE_VERBS.includes(w.slice(2))) return `we ${w.slice(2)}`;
    if (w.length >= 8) {
      for (const v of GLUE_VERBS) {
        const i = w.indexOf(v);
        if (i < 0) continue;
        if (GLUE_GROUPS.some((gr) => w.includes(gr, i + v.length))) return `${w.slice(0, i)} ${v} ${w.slice(i + v.length)}`.trim();
      }
    }
    return w;
  });
}

// --- dampening contexts
const NEGATED_HATE = /\b(?:i|we) (?:do not|don't|dont|never|would never|could never|can't|cannot|will never) (?:\w+ ){0,2}(?:hate|despise|detest|loathe|think|believe|say|feel|find)\b|\b(?:no one|nobody|no \w+) (?:should|deserves? to|ought to)\b|\bit(?:'s| is) (?:not|never) (?:ok|okay|acceptable|right|fine)\b/;
const COUNTER_SPEECH = /\b(?:if you say|saying (?:that|things like)?|when you say|you (?:just )?said|statements? like|people who say|those who say|comments? like|you can't say|you cannot say|stop saying|don't say|never say|quote|quoted|wrote|posted|tweeted|called (?:us|me|them))\b|\b(?:is|are|was|sounds?|makes you|shows|just) (?:\w+ )?(?:wrong|hateful|bigoted|racist|sexist|homophobic|transphobic|ableist|a bigot|a racist|misguided|unacceptable|disgusting of you|not ok|not okay|ignorant|vile of you|out of line)\b|\bbigot\b/;
const QUOTED = /"[^"]{3,200}"|'[^']{6,200}'/g;
const EDUCATIONAL = /^(?:what (?:is|are|was|were|does|did|happened)|what's the (?:definition|meaning|history)|define|definition of|meaning of|why did|why was|when did|when was|who was|who were|how did|how were|how was|how many people died|history of|explain the history)\b|\b(?:definition of|the meaning of|history of|historical|in history|statistics on|prevalence of|causes of|effects of|impact of|laws? (?:against|on|about)|legal consequences|penalt(?:y|ies) for|is it illegal)\b/;
const FICTION_GAME = /\b(?:(?:in|for|on) (?:a |the |my |our )?(?:video ?game|game|gta(?: \d)?|grand theft auto|call of duty|minecraft|skyrim|fortnite|pubg|counter-?strike|cod|the sims|world of warcraft|dnd|d&d|chess|checkers|poker|board game|card game|movie|film|book|novel|story|short story|play|tv show|show|series|anime|fiction|screenplay|script|comic|musical|thriller|crime novel|mystery novel|sitcom|the film|the movie)|ocean's \d+|the godfather|breaking bad|star wars|harry potter|lord of the rings|james bond|mr and mrs smith|home alone|game of thrones|a fake|fictional|role-?playing game|my character|a character's?|characters?)\b/;
const PREVENTION = /\b(?:how (?:do|can|could|should) (?:i|we|you|one|people) (?:not|avoid|prevent|stop|protect|defend|recogni[sz]e|spot|detect|report|help|support|talk to|deal with|cope with|survive)|prevent(?:ion|ing)?|protect (?:myself|yourself|my|against|from)|signs of|warning signs|hotline|helpline|safety tips|stay safe|self-defen[cs]e|get help|seek help|support (?:a|my|someone)|a friend who|awareness|recover(?:y|ing)? from)\b/;
const SAFE_TARGET = /\b(?:process(?:es)?|program|app|application|task|thread|script|server|job|query|command|engine|motor|lights?|power|conversation|competition|weeds?|bugs?|bed ?bugs|pests?|mosquito(?:es)?|flies|rats? in|mice|insects?|cockroach(?:es)?|termites|germs|bacteria|fish|pig|chicken|turkey|cow|lobster|crab|shrimp|coconut|watermelon|tomato|onion|garlic|pumpkin|time|mood|vibe|party|joke|lines|test|exam|audition|interview|deadline|habit|fear|cold|fever|headache|tumou?r|cancer cells|virus on my|malware on my|weight|fat|calories|stain|rust|mold|mould|clutter|noise|doubts?|stress|dead hamster|hamster|character's death)\b/;
const FICTIONAL_PERSON = /\b(?:james bond|donald duck|mickey mouse|lara croft|hermione|harry potter|gandalf|frodo|jason bourne|robin hood|sherlock holmes|batman|superman|spider-?man|spongebob|homer simpson|bart simpson|darth vader|luke skywalker|peter pan|cinderella|snow white|winnie the pooh|scooby|shrek|pikachu|mario|zelda|kratos|geralt|tony stark|bruce wayne|clark kent|wonder woman|the joker|dracula|frankenstein|captain america|thor|hulk|elsa|ariel|aladdin|indiana jones|john wick|rick sanchez|walter white|jon snow|daenerys|tyrion|katniss|bilbo|dumbledore|voldemort|ron weasley|sponge ?bob|minnie mouse|goofy|bugs bunny|garfield|the grinch|santa|santa claus|easter bunny|tooth fairy|fictional|character)\b/;
const PUBLIC_INSTITUTION = /\b(?:white house|the irs|amazon|google|microsoft|apple|the (?:un|united nations|fbi|cia|nhs|police|embassy|government|city council|parliament|congress|senate|ministry|department|library|museum|university|hospital|post office)|customer service|helpline|headquarters|head office|official website|support team)\b/;

function noisyOr(ws: number[]): number {
  let m = 1;
  for (const w of ws) m *= 1 - w;
  return 1 - m;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export class ModerationClassifier implements Detector {
  readonly name = "moderation";
  readonly threshold: number;
  private readonly maxChars: number;

  constructor(opts: ModerationOptions = {}) {
    this.threshold = opts.threshold ?? 0.5;
    this.maxChars = opts.maxChars ?? 100_000;
  }

  /** Scores for every category, in [0, 1]. */
  scores(text: string): CategoryScores {
    let t = text;
    if (t.length > this.maxChars) t = t.slice(0, this.maxChars / 2) + "\n" + t.slice(t.length - this.maxChars / 2);
    const norm = repairSpelling(normalizeText(t));
    const hits = new Map<HazardCategory, number[]>();
    const push = (c: HazardCategory, w: number) => {
      const arr = hits.get(c);
      if (arr) arr.push(w);
      else hits.set(c, [w]);
    };
    for (const pat of PATTERNS) if (pat.re.test(norm)) push(pat.cat, pat.weight);
    if (GROUP_RE.test(norm) && REF_HATE.test(norm)) push("hate", 0.65);
    const slurs = slurHits(norm);
    if (slurs.strong > 0) push("hate", slurs.directed ? 0.8 : 0.6);
    if (slurs.weak > 0 && slurs.directed) push("hate", 0.55);
    else if (slurs.weak > 0) push("hate", 0.2);

    const out = Object.fromEntries(HAZARD_CATEGORIES.map((c) => [c, 0])) as CategoryScores;
    if (hits.size === 0) return out;

    // Context dampening (multiplicative; several contexts compound).
    const quotedOnly = norm.replace(QUOTED, " ");
    const counter = COUNTER_SPEECH.test(norm);
    const negated = NEGATED_HATE.test(norm);
    const educational = EDUCATIONAL.test(norm);
    const fiction = FICTION_GAME.test(norm);
    const prevention = PREVENTION.test(norm);
    const safeTarget = SAFE_TARGET.test(norm);
    for (const [cat, ws] of hits) {
      let s = noisyOr(ws);
      if (cat === "hate") {
        if (counter || negated) s *= 0.35;
        // Only inside quotes: someone is being quoted, not speaking.
        if (quotedOnly !== norm && !PATTERNS.some((p) => p.cat === "hate" && p.re.test(quotedOnly)) && slurHits(quotedOnly).strong === 0) s *= 0.5;
      } else if (cat === "privacy") {
        if (FICTIONAL_PERSON.test(norm) || PUBLIC_INSTITUTION.test(norm)) s *= 0.3;
        if (fiction || educational) s *= 0.45;
      } else {
        if (educational) s *= 0.45;
        if (fiction && cat !== "child_sexual_exploitation") s *= 0.45;
        if (prevention && cat !== "child_sexual_exploitation" && cat !== "elections") s *= 0.4;
        if (safeTarget && (cat === "violent_crimes" || cat === "suicide_self_harm")) s *= 0.5;
      }
      out[cat] = round(s);
    }
    return out;
  }

  detect(text: string): Finding[] {
    const s = this.scores(text);
    return HAZARD_CATEGORIES.filter((c) => s[c] >= this.threshold)
      .sort((a, b) => s[b] - s[a])
      .map((c) => ({ detector: this.name, type: c, score: s[c] }));
  }

  /** The highest category score (0 when nothing matched). */
  maxScore(text: string): number {
    return Math.max(...Object.values(this.scores(text)));
  }
}
