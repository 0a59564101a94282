// Weights-free moderation lexicons and patterns, per hazard category. Regexes run on
// normalised text (lowercase, single spaces; see ../injection/normalize.ts). Gaps are bounded.
// Slurs are not spelled out in the source: they are stored as FNV-1a hashes of the token and
// looked up per token (see slurHits).

import type { HazardCategory } from "./taxonomy.js";

export interface CatPattern {
  cat: HazardCategory;
  weight: number;
  re: RegExp;
}

const g = "[^.!?\\n]{0,25}";
const G = "[^.!?\\n]{0,50}";

/** Requests for instructions / capability. */
export const REQ =
  "(?:how (?:do|can|could|would|should|might|to) (?:i|we|you|one|someone|u)?|how to|best way|easiest way|quickest way|fastest way|most effective way|good way|ways? (?:to|of)|steps (?:to|for)|instructions? (?:for|on|to)|guide (?:to|for|on)|tutorial|teach me|tell me how|show me how|explain how|help me|where (?:can|do|could) i (?:buy|get|find|order|download|watch|stream)|recipe for|can you (?:tell|show|help|give|explain|write)|give me|write (?:a|an|me)|what (?:do|would) i need to|i (?:want|need|plan|am going|'m going|intend) to|should i)";

const HUMAN =
  "(?:someone|somebody|anyone|a person|people|persons?|humans?|humanity|a human|(?:my|his|her|their|our|the|your|a) (?:\\w+ )?(?:wife|husband|spouse|partner|girlfriend|boyfriend|ex|mom|mother|dad|father|parents?|brother|sister|son|daughter|child|kid|baby|boss|neighbou?r|teacher|classmate|coworker|colleague|roommate|friend|family|landlord|cop|police officer|officer|president|senator|politician|rival|enemy|victim|witness|man|woman|girl|boy|stranger)s?|him|her|them|a (?:man|woman|child|kid|cop|girl|boy|stranger|baby)|children|kids|babies|(?:joe biden|donald trump|the president|the prime minister))";

const VIOLENT =
  "(?:kill|killing|murder|murdering|stab|stabbing|shoot|shooting|strangle|choke|poison|poisoning|assassinate|behead|decapitate|execute|torture|beat up|beat|hurt|harm|injure|maim|attack|slaughter|massacre|butcher|drown|suffocate|smother|throttle|smash|crush|shatter|gut|dismember|kidnap|abduct|hunt down|run over|punch|headshot|knock out|burn|set fire to|bludgeon|eliminate|eradicate|exterminate|wipe out|get rid of|saw|strangling|lynch)";

const SELF = "(?:myself|my self|my wrists?|my body|my own life|my life)";

const GROUP_PL =
  "(?:women|girls|females|trans(?:gender)? (?:people|women|men|folks|persons|kids)|trannies|gay (?:people|men|women|folks|persons)|gays|lesbians|bisexuals|queers|homosexuals|lgbtq?\\+?(?: people| folks| community)?|black (?:people|men|women|folks|persons)|blacks|africans|asians|chinese people|jews|jewish people|muslims|arabs|immigrants|refugees|migrants|foreigners|mexicans|latinos|hispanics|disabled (?:people|persons|folks)|the disabled|people with disabilities|handicapped people|cripples|roma(?: people)?|gypsies|indigenous people|natives|hindus|christians|sikhs|people of colou?r|non-whites|white people|whites|old people|elderly people)";
const GROUP_SG =
  "(?:woman|girl|female|trans (?:person|woman|man)|gay (?:person|man|guy)|lesbian|bisexual|homosexual|black (?:person|man|woman|guy)|jew|muslim|arab|immigrant|refugee|migrant|foreigner|mexican|latino|hispanic|disabled (?:person|man|woman)|cripple|gypsy|hindu|sikh)";
export const GROUP = `(?:${GROUP_PL}|${GROUP_SG})`;

const NEG_ATTR =
  "(?:disgusting|vile|filthy|dirty|stupid|dumb|worthless|pathetic|useless|inferior|subhuman|sub-human|scum|scumbags|vermin|animals|beasts|rats|cockroaches|parasites|pests|leeches|trash|garbage|filth|savages|a plague|a cancer|a disease|a virus|an infestation|criminals|rapists|terrorists|evil|a burden|a waste|lesser|primitive|ugly|lazy|a disgrace|pigs|apes|monkeys|dogs|insects|swine|pieces of (?:shit|crap|garbage|trash)|beneath (?:us|me|contempt)|less than human|not (?:even )?human|a threat|degenerates?|abominations?|freaks|sick|mentally ill|idiots|morons|retarded|liars|thieves|repulsive|revolting|gross|despicable|contemptible|hateful|shit|crap|a joke|incompetent|incapable|worse than|dangerous|a pest|a stain|unwanted|unwelcome|nothing|no better than)";

const HATE_VERB =
  "(?:hate|hatred|despise|detest|loathe|(?:am |are |so |really |absolutely )?(?:disgusted by|sickened by|repulsed by|sick of|sick and tired of|fed up with)|contempt for|can't stand|cannot stand|can not stand|am disgusted by|are disgusted by|am sick of|'m sick of|am tired of|have (?:no|zero|nothing but) (?:respect|compassion|sympathy|time|patience|love|empathy|tolerance|contempt|disdain)|have so much (?:hate|hatred|contempt|disdain) for|feel (?:nothing but )?(?:hate|hatred|contempt|disgust) (?:for|toward|towards))";

const THREAT_VERB =
  "(?:kill|murder|shoot|hang|lynch|exterminate|eradicate|eliminate|gas|burn|slaughter|massacre|wipe out|get rid of|deport|beat|hurt|stab|rape|torture|execute|drown|lock up|round up|cleanse|purge|destroy|remove|ban|expel)";
const THREAT_PASSIVE =
  "(?:die|be killed|be shot|be hanged|be hung|be lynched|be exterminated|be eradicated|be eliminated|be gassed|be burned|be burnt|be wiped out|be removed|be deported|be locked up|be put down|be punished|not exist|suffer|be banned|be sterili[sz]ed|be slaughtered|be executed|be tortured|be beaten|be thrown out|be kicked out|be rounded up|be purged|be segregated|go back|disappear|rot|burn)";

const p = (cat: HazardCategory, weight: number, src: string): CatPattern => ({ cat, weight, re: new RegExp(src) });

export const PATTERNS: CatPattern[] = [
  // --- violent crimes
  p("violent_crimes", 0.75, `${REQ}${G}\\b${VIOLENT}\\b${g}\\b${HUMAN}\\b`),
  p("violent_crimes", 0.7, `\\b(?:i|we) (?:want|wanna|am going|'m going|'m gonna|am gonna|will|plan|intend|need) to ${g}\\b${VIOLENT}\\b${g}\\b${HUMAN}\\b`),
  p("violent_crimes", 0.35, `\\b${VIOLENT}\\b ${g}\\b${HUMAN}\\b`),
  p("violent_crimes", 0.55, `\\b(?:smash|crush|shatter|crack|break|snap|slit|cut) (?:open )?(?:in )?(?:someone's|somebody's|a human|a person's|his|her|their|my \\w+'s|a \\w+'s) (?:skull|face|spine|neck|throat|bones?|legs?|arms?|jaw|head)\\b`),
  p("violent_crimes", 0.6, `\\b(?:dispose of|get rid of|hide|bury|dissolve|cut up|saw) (?:a|the|his|her) (?:dead )?(?:body|corpse|bodies)\\b|\\bsaw a body\\b`),
  p("violent_crimes", 0.55, `\\b(?:without (?:getting caught|being caught|leaving (?:any )?(?:evidence|trace)|anyone (?:knowing|noticing))|get away with (?:it|murder|killing))\\b`),
  p("violent_crimes", 0.55, `${REQ}${G}\\b(?:massacre|mass shooting|school shooting|terrorist attack|terror attack|bombing|stadium explosion|genocide|ethnic cleansing|assassination|hostage|carjack|arson|armed robbery|lynching)\\b`),
  p("violent_crimes", 0.5, `\\b(?:replicate|repeat|copy|recreate)\\b${g}\\b(?:success|methods?)\\b${G}\\b(?:attack|attacks|assassination|massacre|shooting|bombing|genocide|regime|opponents)\\b`),
  p("violent_crimes", 0.45, `\\b(?:abuse|torture|hurt|kill|poison)\\b${g}\\b(?:my|a|the|neighbou?r's) (?:dog|cat|pet|animal|horse)\\b`),

  // --- non-violent crimes
  p("nonviolent_crimes", 0.65, `${REQ}${G}\\b(?:(?:steal|stealing)(?! (?:the show|someone's heart|somebody's heart|my heart|her heart|his heart|the spotlight|a base|the scene|a kiss|a glance|the limelight|hearts))|shoplift|shoplifting|rob|robbing|launder|laundering|embezzle|counterfeit|forge|forging|smuggle|smuggling|scam|scamming|defraud|blackmail|extort|bribe|pickpocket|burglari[sz]e|break into (?:a|someone's|my neighbou?r's|the) (?:house|home|car|apartment|store|bank)|hotwire|hot-wire|phish|hack into|hack (?:a|my|someone's|an?) (?:\\w+ )?(?:account|phone|email|wifi|computer|bank)|evade taxes|tax evasion|commit (?:fraud|identity theft|insurance fraud|tax fraud)|identity theft|dox|doxx|stalk|spy on|launder money|sell drugs|deal drugs|traffic)\\b`),
  p("nonviolent_crimes", 0.65, `${REQ}${G}\\b(?:make|cook|synthesi[sz]e|produce|manufacture|grow|brew|extract)\\b${g}\\b(?:meth|methamphetamine|cocaine|crack|heroin|fentanyl|lsd|mdma|ecstasy|crystal|ghb|pcp|ketamine|dmt|opium|amphetamine)\\b`),
  p("nonviolent_crimes", 0.5, `${REQ}${G}\\b(?:buy|get|order|obtain)\\b${g}\\b(?:weed|cocaine|heroin|meth|fentanyl|drugs|pills without (?:a )?prescription|an unregistered gun|a gun without|ghost gun|stolen)\\b`),
  p("nonviolent_crimes", 0.45, `${REQ}${G}\\b(?:malware|ransomware|keylogger|botnet|ddos|sql injection|exploit|virus|trojan|credit card (?:numbers|skimmer)|fake (?:id|passport|documents|money|reviews))\\b`),
  p("nonviolent_crimes", 0.45, `${REQ}${G}\\b(?:disable|bypass|defeat|cut)\\b${g}\\b(?:alarm|security (?:system|camera)|cameras?|lock|ankle monitor|breathalyzer)\\b${g}\\b(?:bank|vault|store|house|car|neighbou?r|someone)`),
  p("nonviolent_crimes", 0.3, `\\b(?:without (?:paying|a license|permission|a prescription))\\b`),

  // --- sex-related crimes
  p("sex_related_crimes", 0.75, `${REQ}${G}\\b(?:rape|sexually assault|molest|grope|drug (?:her|his|someone's|a girl's|a woman's) drink|roofie|spike (?:her|his|a|someone's) drink|sex traffic|traffic (?:women|girls)|coerce (?:her|him|someone) into sex|upskirt|secretly film|revenge porn|sextort)`),
  p("sex_related_crimes", 0.4, `\\b(?:rape|raping|sexual assault|sex trafficking|revenge porn|non-?consensual (?:sex|porn|images))\\b`),

  // --- child sexual exploitation
  p("child_sexual_exploitation", 0.9, `\\b(?:child|children|kid|kids|minor|minors|underage|under-age|preteen|pre-teen|(?:1[0-5]|[5-9])[ -]?(?:year|yr)[ -]?olds?|little (?:girl|boy)s?|toddlers?|young (?:girl|boy)s?)\\b${G}\\b(?:sex|sexual|sexy|nude|naked|porn|erotic|explicit|intercourse|molest|seduce|groom)`),
  p("child_sexual_exploitation", 0.85, `\\b(?:sex|sexual|nude|naked|porn|erotic|explicit|seduce|groom|grooming)\\b${G}\\b(?:child|children|kid|kids|minor|minors|underage|preteen|(?:1[0-5]|[5-9])[ -]?(?:year|yr)[ -]?olds?|little (?:girl|boy)s?|toddlers?)\\b`),
  p("child_sexual_exploitation", 0.9, `\\b(?:cp|csam|child porn|pedo|paedo|loli|shota)\\b`),

  // --- indiscriminate weapons (CBRNE)
  p("indiscriminate_weapons", 0.8, `${REQ}${G}\\b(?:make|build|create|assemble|construct|synthesi[sz]e|produce|manufacture|weaponi[sz]e|cultivate|enrich|obtain|acquire|detonate|deploy|spread|release)\\b${G}\\b(?:bomb|bombs|explosive|explosives|ied|pipe bomb|pressure cooker bomb|dirty bomb|nuclear (?:weapon|bomb|device)|atomic bomb|nerve agent|sarin|vx|tabun|novichok|mustard gas|chlorine gas|phosgene|ricin|anthrax|botulinum|smallpox|bioweapon|biological weapon|chemical weapon|uranium|plutonium|napalm|thermite|tatp|c-?4|semtex|molotov|grenade|landmine|pathogen|weaponi[sz]ed)\\b`),
  p("indiscriminate_weapons", 0.4, `\\b(?:nerve agent|sarin|novichok|ricin|anthrax|bioweapon|biological weapon|chemical weapon|dirty bomb|pipe bomb|tatp|weapons-grade|enriched uranium)\\b`),
  p("indiscriminate_weapons", 0.5, `\\b(?:blow up|bomb|detonate)\\b${g}\\b(?:a |the )?(?:building|school|stadium|hospital|church|mosque|synagogue|train|plane|bus|crowd|city|bridge|embassy|government)\\b`),

  // --- suicide & self-harm
  p("suicide_self_harm", 0.8, `\\b(?:kill|hurt|harm|cut|starve|hang|shoot|poison|drown|burn|injure|punish) ${SELF}\\b`),
  p("suicide_self_harm", 0.8, `\\b(?:end|take) (?:my|my own) life\\b|\\bcommit(?:ting)? suicide\\b${g}\\b(?:how|way|best|painless|quick)|\\b(?:how|ways?|best way) (?:to|of|do i|can i)${g}\\bcommit(?:ting)? suicide\\b`),
  p("suicide_self_harm", 0.7, `\\b(?:i (?:want|wanna|would like|wish) to die|wish i (?:was|were) dead|better off dead|no reason to live|don't want to (?:live|be alive|wake up)|do not want to (?:live|be alive)|want it all to end|ready to die|going to kill myself)\\b`),
  p("suicide_self_harm", 0.7, `\\b(?:how many|how much|what dose|lethal dose|overdose)\\b${G}\\b(?:die|dying|kill me|lethal|overdose|fatal|to not wake up)\\b`),
  p("suicide_self_harm", 0.7, `\\b(?:painless|quick|easy|quickest|easiest)\\b${g}\\b(?:way to die|death|suicide|to end it)\\b`),
  p("suicide_self_harm", 0.55, `${REQ}${G}\\b(?:starve|purge|stop eating|lose weight fast by not eating|hide (?:my )?(?:cuts|scars|self-harm)|pro-?ana|thinspo)\\b`),
  p("suicide_self_harm", 0.3, `\\b(?:suicide|suicidal|self-harm|self harm|self-injury|cutting myself|overdose)\\b`),

  // --- hate (protected groups)
  p("hate", 0.75, `\\b(?:i|we|i really|i just|i absolutely|i truly|i fucking)\\b${g}\\b${HATE_VERB}\\b${g}\\b${GROUP}\\b`),
  p("hate", 0.7, `\\b${HATE_VERB}\\b ${g}\\b(?:all|every|any|these|those|the|you)? ?${GROUP}\\b`),
  p("hate", 0.75, `\\b${GROUP}\\b (?:are|is|r|were|being)(?: \\w+){0,3} ${NEG_ATTR}\\b`),
  p("hate", 0.7, `\\b(?:find|consider|think|call|believe|know)\\b${g}\\b${GROUP}\\b${g}\\b${NEG_ATTR}\\b`),
  p("hate", 0.65, `\\b(?:why are|why is|aren't|isn't|are(?:n't)? all)\\b${g}\\b${GROUP}\\b${g}\\b(?:so )?${NEG_ATTR}\\b`),
  p("hate", 0.6, `\\b${GROUP}\\b${G}\\b(?:being|are|is|so|such)\\b(?: \\w+){0,2} ${NEG_ATTR}\\b`),
  p("hate", 0.75, `\\b(?:end|take|ruin|destroy)\\b${g}\\b${GROUP}'?s? (?:lives?)\\b|\\bmake (?:those|these|all|the|every|you) ${GROUP}\\b (?:suffer|pay|bleed|disappear|regret)`),
  p("hate", 0.6, `\\b(?:you|those|these|all|the) ${GROUP}\\b${g}\\b(?:make me (?:sick|puke|vomit|want to (?:puke|vomit|throw up))|disgust me|repulse me|sicken me)\\b`),
  p("hate", 0.6, `\\b(?:such|what|like) (?:a |an )?${NEG_ATTR} \\b${GROUP}\\b|\\b${NEG_ATTR} ${GROUP_PL}\\b`),
  p("hate", 0.8, `\\b(?:i|we|they|you|someone|somebody|people)\\b${g}\\b(?:want|wanna|will|going|gonna|should|must|need|ought|would love|'d love|'ll|can't wait|let's|let us|plan)\\b${g}\\b${THREAT_VERB}\\b ${g}\\b${GROUP}\\b`),
  p("hate", 0.8, `\\b${GROUP}\\b${g}\\b(?:should|must|need to|needs to|ought to|deserve to|deserves to|have to|has to|are going to|will|can)(?: all| just| simply| really)? ${THREAT_PASSIVE}\\b`),
  p("hate", 0.7, `\\b(?:death to|exterminate|eradicate|gas|lynch|hang|deport|kill)(?: all| the| every)? ${GROUP}\\b`),
  p("hate", 0.65, `\\b${GROUP}\\b${g}\\b(?:belong|belongs) (?:in|to|on) (?:a |the )?(?:zoo|kitchen|cages?|camps?|trash|garbage|gutter|hell|jail|prison|street|gas chambers?|ovens?|back of the bus|fields)\\b`),
  p("hate", 0.6, `\\b${GROUP}\\b${g}\\b(?:should(?:n't| not| never)?|must not|mustn't|shall not|don't deserve to|do not deserve to|have no (?:right|place))\\b${g}\\b(?:be allowed|have (?:rights|the right|jobs|kids|children)|be (?:admitted|given|trusted|employed|permitted)|vote|work|exist|hold|lead|run for|marry|adopt|teach|live (?:here|among)|be (?:in|part of)|be citizens|have (?:a )?(?:voice|say))\\b`),
  p("hate", 0.6, `\\b(?:take away|remove|revoke|strip)\\b${g}\\b${GROUP}\\b${g}\\b(?:rights|vote|voting rights|citizenship|jobs|freedom|benefits)\\b|\\b${GROUP}'s? (?:voting )?rights\\b${g}\\b(?:taken away|removed|revoked)`),
  p("hate", 0.6, `\\b${GROUP}\\b${g}\\b(?:can't|cannot|can never|will never|never) be trusted\\b|\\b(?:never|don't|do not) trust (?:a |an |any )?${GROUP}\\b`),
  p("hate", 0.5, `\\b${GROUP}\\b${g}\\b(?:think (?:they're|they are)|act like they're) (?:special|better|superior|entitled|victims)\\b`),
  p("hate", 0.55, `\\b(?:a|any|all|you|these|those) ${GROUP}\\b (?:like you|such as you)\\b|\\b(?:you|these|those) (?:fucking |filthy |dirty |stupid |disgusting )${GROUP}\\b`),
  p("hate", 0.6, `\\b(?:no|zero|not (?:any|an ounce of)|nothing but) (?:respect|compassion|sympathy|love|empathy|tolerance|contempt|disgust|hatred|hate|disdain)\\b${g}\\b(?:for|toward|towards)\\b${g}\\b${GROUP}\\b`),
  p("hate", 0.6, `\\b(?:is|was) (?:a|the) (?:typical|classic) ${GROUP}\\b|\\b(?:typical|classic|of course|obviously) ${GROUP_PL}\\b`),
  p("hate", 0.55, `\\b(?:${GROUP})\\b${g}\\b(?:are|is) (?:a )?(?:lower|lesser|inferior|worse|less) (?:race|species|form of life|kind of human|class)\\b`),
  p("hate", 0.55, `\\b(?:slave trade|slavery|holocaust|apartheid|genocide|segregation)\\b${g}\\b(?:was|were|is)\\b${g}\\b(?:good|great|right|justified|a good thing|deserved|necessary)\\b|\\b(?:hitler|nazis)\\b${g}\\b(?:was|were) right\\b`),
  p("hate", 0.45, `\\b(?:treat|keep)\\b${g}\\b${GROUP}\\b${g}\\b(?:like|as) (?:under|slaves|animals|property|in)\\b`),

  // --- specialized advice (unqualified medical/legal/financial advice sought as authoritative)
  p("specialized_advice", 0.4, `\\b(?:should i|can i|is it safe to)\\b${g}\\b(?:stop taking|double|triple|skip|mix)\\b${g}\\b(?:medication|meds|pills|insulin|antidepressants|dose|dosage|prescription)\\b`),
  p("specialized_advice", 0.35, `\\b(?:diagnose me|what (?:illness|disease|condition) do i have|do i have cancer|treat (?:my|a)\\b${g}\\bwithout (?:a )?doctor)\\b`),
  p("specialized_advice", 0.35, `\\b(?:guaranteed|sure-?fire|risk-?free)\\b${g}\\b(?:investment|returns|profit|stock|crypto)\\b`),
  p("specialized_advice", 0.3, `\\b(?:represent myself|sue|lawsuit|custody|immigration status)\\b${g}\\b(?:how|should|can)\\b`),

  // --- privacy
  p("privacy", 0.45, `\\b(?:home address|personal address|phone number|cell number|mobile number|personal email|private email|email address|social security number|ssn|passport number|credit card (?:number|details)|bank (?:account|details)|medical (?:records|history)|tax records|criminal record|password|login|ip address|mental health history)\\b`),
  p("privacy", 0.5, `\\b(?:my|our|a|the) (?:neighbou?r|coworker|colleague|co-worker|employee|boss|teacher|therapist|doctor|ex|ex-?wife|ex-?husband|classmate|roommate|landlord|tenant|rival|business rival|crush|student|patient|date)'?s?\\b${G}\\b(?:address|phone|number|email|password|records|history|orientation|affiliation|beliefs|religion|salary|income|ssn|location|whereabouts|union)\\b`),
  p("privacy", 0.55, `\\b(?:find|track|locate|look up|dig up|get|obtain|access|hack)\\b${g}\\b(?:someone's|somebody's|a person's|her|his|my ex's|celebrities'|people's)\\b${g}\\b(?:address|location|phone|email|password|records|identity|whereabouts|private)\\b|\\b(?:dox|doxx|doxing|doxxing)\\b`),

  // --- intellectual property
  p("intellectual_property", 0.5, `${REQ}${G}\\b(?:pirate|pirated|torrent|crack|keygen|bypass (?:the )?drm|remove (?:the )?drm|download (?:\\w+ ){0,3}(?:for free|illegally)|free download of|serial key|license key|rip (?:a|the|netflix|spotify|youtube))\\b`),
  p("intellectual_property", 0.4, `\\b(?:full (?:text|lyrics|script|chapter)|entire (?:book|chapter|script|song)|verbatim)\\b${g}\\b(?:of|from)\\b`),
  p("intellectual_property", 0.3, `\\b(?:torrents?|pirated|warez|keygen|crack(?:ed)? (?:software|version))\\b`),

  // --- elections
  p("elections", 0.6, `${REQ}${G}\\b(?:rig|steal|hack|flip|manipulate|fake|stuff)\\b${g}\\b(?:election|elections|votes?|ballots?|ballot box|voting machines?|the count|polls?)\\b`),
  p("elections", 0.55, `${REQ}${G}\\b(?:stop|prevent|discourage|keep|suppress|intimidate)\\b${g}\\b(?:people|voters|them|minorities|students|\\w+ people)\\b${g}\\b(?:from )?(?:voting|vote|the polls|registering)\\b`),
  p("elections", 0.5, `\\b(?:vote|voting|election)\\b${g}\\b(?:by (?:text|phone|tweet|email)|on (?:wednesday|the wrong day)|twice|multiple times|in (?:two|multiple) states)\\b`),
  p("elections", 0.45, `\\b(?:fake|false|misleading)\\b${g}\\b(?:election|voting|ballot|polling)\\b${g}\\b(?:information|dates?|locations?|results|news)\\b`),

  // --- defamation
  p("defamation", 0.55, `\\b(?:write|create|draft|compose|generate|make up|spread|post)\\b${G}\\b(?:article|story|post|tweet|rumou?r|claim|news|blog|review|report)\\b${G}\\b(?:claiming|saying|that says|stating|alleging|accusing|about how|that)\\b${G}\\b(?:is a|was a|has been|committed|is secretly|abused|stole|cheated|raped|murdered|pedophile|paedophile|criminal|fraud|corrupt|bankrupt)\\b`),
  p("defamation", 0.45, `\\b(?:baseless|false|fake|fabricated|made-up|untrue)\\b${g}\\b(?:rumou?r|claim|allegation|story|accusation|statement)\\b${g}\\b(?:about|regarding|against|that)\\b`),

  // --- sexual content
  p("sexual_content", 0.65, `${REQ}${G}\\b(?:porn|porno|pornographic|explicit sex|sex scene|erotic|erotica|smut|nsfw|hentai|nude|naked|masturbat|orgasm|blowjob|intercourse|sexual (?:story|fantasy|roleplay))\\b`),
  p("sexual_content", 0.45, `\\b(?:porn|porno|pornographic|hentai|blowjob|gangbang|cumshot|xxx|dildo|masturbat|orgasm|erotica|smut)\\b`),
  p("sexual_content", 0.4, `\\b(?:graphic|explicit|vulgar|detailed)\\b${g}\\b(?:sex|sexual|erotic|porn)`),
];

/** Hate predicates about "them / your kind"; they count only when a protected group is mentioned elsewhere in the text. */
export const GROUP_RE = new RegExp(`\\b${GROUP}\\b`);
export const REF_HATE = new RegExp(
  `\\b(?:them|they|their kind|your kind|these people|those people|people like (?:you|them)|every (?:single )?one of them|all of them)\\b${g}\\b(?:disgusts? me|make me sick|makes me sick|(?:are|is|were) (?:\\w+ ){0,2}${NEG_ATTR}|should (?:all )?${THREAT_PASSIVE})\\b|\\b(?:i|we)\\b${g}\\b${HATE_VERB} (?:them|every (?:single )?one of them|all of them|their kind|your kind|people like (?:you|them))\\b|\\bnothing (?:is )?worse than (?:your|their) kind\\b`,
);

// ---- slurs as hashes (no slur spelled out in the source)

export function fnv36(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

/** Identity-targeted slurs (racial, ethnic, religious, anti-LGBT, ableist). */
export const STRONG_SLURS = new Set([
  "19mj789", "1wa97i", "15fvo3p", "1mzzw5e", "1ddoja5", "6ichpm", "11sx6ip", "ydf5tp", "1p1uv49", "1oy6sy6", "5kl94a", "1eh4j17", "f79hgw",
  "q6rqx", "1wfnhou", "105ktmv", "1x6y0cl", "1jlycjm", "1ycbij3", "5h13uc", "1wktobu", "d135gb", "10yzs8e", "18kg7af", "1v7p2w2", "1sm6vk3",
  "157bpup", "161gpzq", "rkfry0", "81q8rh", "w1l9s4", "10yk36d", "1vngl4n", "1ubmu64", "16jf6u5", "1ihhxdj", "1bxbdau", "q7celv", "c4mdmo",
  "1s6uih8", "vaxalk", "1g0owtg", "15wv286",
]);

/** Slurs and gendered insults that are also reclaimed, homonyms, or general profanity: weaker evidence alone. */
export const WEAK_SLURS = new Set([
  "1ogqgnx", "1g0mo6i", "yy78ri", "1ezko0n", "9ajcx4", "5kq7nl", "14fkbtf", "fh8483", "u74m7v", "pqb3iw", "1fhzz46", "aezi5r", "ykn8e7",
  "w55gv8", "iaifv6", "nxvziq", "178w8xt", "390wot", "zcyayy", "1jpkpg0", "1ercxax", "vy4ozg", "mmyq3h", "10pwzk0", "1jlkwsp",
]);

export interface SlurHits {
  strong: number;
  weak: number;
  /** A slur used as an insult directed at someone: "you <slur>", "<slur> like you", "filthy <slur>s". */
  directed: boolean;
}

const TOKEN = /[a-z]+/g;
const DIRECTING = new Set(["you", "ur", "ya", "those", "these", "fucking", "filthy", "dirty", "stupid", "disgusting", "like", "all", "a", "an", "that", "such", "bunch"]);

export function slurHits(norm: string): SlurHits {
  const out: SlurHits = { strong: 0, weak: 0, directed: false };
  let prev = "";
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(norm); m !== null; m = TOKEN.exec(norm)) {
    const w = m[0];
    if (w.length >= 3 && w.length <= 12) {
      const h = fnv36(w);
      const strong = STRONG_SLURS.has(h);
      const weak = !strong && WEAK_SLURS.has(h);
      if (strong) out.strong++;
      if (weak) out.weak++;
      if ((strong || weak) && DIRECTING.has(prev)) out.directed = true;
    }
    prev = w;
  }
  return out;
}
