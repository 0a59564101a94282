// Pattern families for prompt-injection / jailbreak heuristics. Every regex runs on
// normalised text (see normalize.ts: lowercase, single spaces, straight quotes).
// Gaps between key words are bounded ([^.!?\n]{0,N}) so matching stays linear.
// Weights are the evidence each pattern contributes; a family's score and the overall
// score combine matched weights with a noisy-OR (1 − Π(1 − w)).

export type InjectionFamily =
  | "ignore_instructions"
  | "role_play"
  | "jailbreak_persona"
  | "refusal_suppression"
  | "prompt_leak"
  | "delimiter_injection"
  | "payload_smuggling"
  | "indirect_injection"
  | "exfiltration";

export interface WeightedPattern {
  family: InjectionFamily;
  re: RegExp;
  weight: number;
}

const G = "[^.!?\\n]{0,40}"; // bounded gap within a sentence
const g = "[^.!?\\n]{0,20}";
const S = "(?:[^.!?\\n]|\\.(?! ))"; // sentence-internal char (tolerates "e.g.")

const p = (family: InjectionFamily, weight: number, src: string): WeightedPattern => ({ family, weight, re: new RegExp(src) });

const INSTR_NOUN =
  "(?:instructions?|instructed|prompts?|directives?|guidelines?|rules|commands?|programming|training|constraints|restrictions|polic(?:y|ies)|safeguards|filters?|prior messages|system message|conversation|context|orders)";

export const DIRECT_PATTERNS: WeightedPattern[] = [
  // --- ignore / disregard / forget previous instructions
  p("ignore_instructions", 0.85, `\\b(?:ignore|disregard|forget|bypass|override|overlook|discard|abandon|neglect|set aside|throw out|drop)\\b${G}\\b(?:previous|prior|above|earlier|preceding|initial|original|existing|former|all|any|every|your|these|those|the)\\b${G}\\b${INSTR_NOUN}\\b`),
  p("ignore_instructions", 0.6, `\\bforget (?:everything|all|what) (?:you|that|i|above|before|previously)\\b`),
  p("ignore_instructions", 0.5, `\\b(?:new|updated|real|actual|true) (?:instructions?|task|directive|system prompt|rules)\\s?:`),
  p("ignore_instructions", 0.45, `\\b(?:instead|rather)${g}\\b(?:follow|obey|do) (?:these|my|the following|the new)\\b`),
  p("ignore_instructions", 0.35, `\\byou (?:are|were) (?:no longer|not) (?:bound|restricted|limited|required) (?:by|to)\\b`),
  p("ignore_instructions", 0.2, `\\bfrom (?:now|this (?:point|moment)) on\\b`),
  p("ignore_instructions", 0.3, `\\b(?:ignore|disregard)${g}\\b(?:openai|anthropic|content polic|safety|ethic|moral)`),

  // --- role-play framing
  p("role_play", 0.35, `\\byou (?:are|re|will be) (?:now|going to|about to|gonna)\\b${g}\\b(?:be|act|play|pretend|immerse|become|simulate|roleplay|role-play|respond|answer|take on)\\b`),
  p("role_play", 0.3, `\\b(?:pretend|imagine)\\b${g}\\b(?:you are|you're|to be|you have|you were|that you)\\b`),
  p("role_play", 0.5, `\\b(?:stay|remain|keep|always stay|never break|don't break|do not break)\\b${g}\\bcharacter\\b`),
  p("role_play", 0.3, `\\b(?:break|broke|breaking) (?:out of )?character\\b`),
  p("role_play", 0.25, `\\b(?:act|behave|respond|answer|reply|speak|talk|write) (?:as|like) (?:if you (?:were|are)|though you (?:were|are)|an?|my|the)\\b`),
  p("role_play", 0.15, `\\b(?:role-?play|roleplay|simulate|emulate|impersonate|persona|character)\\b`),
  p("role_play", 0.3, `\\b(?:ai|bot|model|assistant|chatbot|entity|being|character|persona)\\b${g}\\b(?:named|called|known as)\\b`),
  p("role_play", 0.3, `\\byou (?:will|must|shall|are going to|should) (?:always )?(?:answer|respond|reply|comply|obey|act|speak|write)\\b`),
  p("role_play", 0.25, `\\b(?:hypothetical|fictional|imaginary|alternate|parallel) (?:world|universe|scenario|story|setting|reality)\\b`),
  p("role_play", 0.2, `\\bformat\\b${g}:\\s?\\[?\\w+\\]?\\s?:`),
  p("role_play", 0.25, `\\b(?:respond|answer|reply|prefix|start)\\b${G}\\b(?:with|as|by)\\b${g}["'\\[(]`),

  // --- jailbreak personas and modes (DAN, developer mode, "no restrictions")
  p("jailbreak_persona", 0.9, `\\bdo anything now\\b`),
  p("jailbreak_persona", 0.6, `\\b(?:developer|dev|god|sudo|admin|maintenance|debug|unrestricted|jailbreak|evil|chaos|unfiltered|opposite) mode\\b`),
  p("jailbreak_persona", 0.6, `\\bjailbr(?:eak|oken|eaking)\\b`),
  p("jailbreak_persona", 0.4, `\\b(?:dan|stan|dude|aim|evil ?bot|anti-?dan)\\b${g}\\b(?:mode|prompt|persona|character|can|will|stands? for)\\b`),
  p("jailbreak_persona", 0.45, `\\b(?:no|without|free (?:of|from)|not bound by|unbound by|don't have|do not have|doesn't have|does not have|broken free|break free|beyond|lack|devoid of|outside)\\b${g}\\b(?:restrictions|limitations|limits|filters?|filtering|censorship|guidelines|boundaries|rules|morals|morality|ethics|ethical|constraints|content polic(?:y|ies)|safeguards|inhibitions|principles)\\b`),
  p("jailbreak_persona", 0.35, `\\b(?:unfiltered|uncensored|unrestricted|amoral|unethical|immoral|unbound|limitless|unlimited|unhinged|lawless|without morals|no morals|no ethics)\\b`),
  p("jailbreak_persona", 0.35, `\\b(?:openai|anthropic|google|meta|chatgpt|model)'?s? (?:content )?(?:polic(?:y|ies)|guidelines|rules|restrictions|filters?)\\b`),
  p("jailbreak_persona", 0.3, `\\bcontent polic(?:y|ies)\\b`),
  p("jailbreak_persona", 0.5, `\\b(?:doesn't|does not|don't|do not|never|won't|will not|wouldn't)\\b${g}\\b(?:care|give a (?:fuck|shit|damn)|concern|worry|bother|matter)\\b${G}\\b(?:ethic|moral|legal|illegal|law|laws|rules|consequen|harm|safety|danger|offensive|appropriat)`),
  p("jailbreak_persona", 0.4, `\\b(?:both|two|dual|separate) (?:responses|answers|paragraphs|replies|outputs|ways)\\b`),
  p("jailbreak_persona", 0.4, `(?:🔒|🔓|\\[classic\\]|\\[jailbreak\\]|\\(normal output\\)|\\(developer mode output\\))`),
  p("jailbreak_persona", 0.45, `\\btokens?\\b${G}\\b(?:deducted|lose|lost|cease|die|run out|penalt)`),
  p("jailbreak_persona", 0.3, `\\[(?:insert )?(?:prompt|question|request|your (?:prompt|question|request))(?: here)?\\]|\\{(?:prompt|question|request)\\}`),
  p("jailbreak_persona", 0.35, `\\b(?:can|could|will|able to) (?:do|say|generate|write|answer) (?:anything|everything|any (?:request|question|content))\\b`),
  p("jailbreak_persona", 0.3, `\\b(?:free|freed|liberated|escaped|unshackled|broke free)\\b${g}\\b(?:ai|bot|model|confines|shackles|chains|limitations|prison)\\b`),
  p("jailbreak_persona", 0.25, `\\b(?:explicit|nsfw|violent|offensive|illegal|harmful|derogatory|graphic|unethical)\\b${g}\\b(?:content|language|material|responses?|answers?|stories|requests?)\\b`),
  p("jailbreak_persona", 0.3, `\\b(?:swear|curse|cuss|profanity|profane)\\b`),
  p("jailbreak_persona", 0.25, `\\b(?:opinions?|feelings|emotions|consciousness|sentien)\\b${g}\\b(?:ai|you)\\b|\\byou (?:can|will|have) (?:have )?(?:opinions|feelings|emotions)\\b`),

  p("role_play", 0.35, `\\b(?:roleplay|role-play|role play|play the (?:role|part)|take on the (?:role|persona)|pretend to be|you are to act|function in the capacity|in character) (?:as|of)?\\b`),
  p("role_play", 0.3, `\\b(?:let's|let us|we(?:'re| are) going to|we will) play a (?:game|role|roleplay)\\b`),
  p("role_play", 0.35, `\\b(?:your|the assistant's|the ai's|chatgpt's) (?:role|job|purpose|persona|identity) is now\\b|\\b(?:you|assistant) (?:now )?acts? (?:as|like)\\b`),
  p("role_play", 0.25, `\\b(?:hi|hello|hey|greetings|dear),? (?:chatgpt|gpt-?\\d?|bard|bing|claude|gemini|llama|ai)\\b`),
  p("role_play", 0.2, `\\buntil i say\\b|\\bif you (?:break|forget|fail)\\b`),
  p("jailbreak_persona", 0.5, `\\b(?:bypass|bypassing|circumvent|evade|get around|break|breaks|breaking|override)\\b${g}\\b(?:moral|ethic|filter|restriction|rules|guideline|safety|censor|safeguard|polic|programming|limitation)`),
  p("jailbreak_persona", 0.35, `\\b(?:capable of|able to do|can do|will do) (?:anything|everything)\\b|\\bno (?:prohibitions|boundaries|limits|taboos)\\b`),
  p("jailbreak_persona", 0.3, `\\b(?:answer|respond to|reply to|fulfil|fulfill|satisfy)\\b${g}\\b(?:any|every|all)\\b${g}\\b(?:questions?|requests?|prompts?|queries|demands?|whims?)\\b`),
  p("jailbreak_persona", 0.5, `\\b(?:i am|i'm|we are|we're)\\b${g}\\b(?:developers?|programmers?|engineers?|employees?|admins?|administrators?|researchers?|creators?|staff)\\b${g}\\b(?:at|from|of|for|with) (?:openai|anthropic|google|microsoft|meta|deepmind)\\b`),
  p("jailbreak_persona", 0.4, `\\b(?:reprogram|modify(?:ing)? your (?:programming|code|rules)|update your (?:rules|programming|guidelines)|new (?:programming|directives|protocol))\\b`),
  p("jailbreak_persona", 0.25, `\\b(?:no matter|whatever|regardless of) (?:how|what|the)\\b${g}\\b(?:twisted|devious|illegal|unethical|harmful|dangerous|immoral|offensive|inappropriate|evil)\\b`),
  p("role_play", 0.4, `\\byou are now (?!(?:subscribed|registered|logged|signed|connected|enrolled|ready|able|eligible|part of|a member|set|all set|verified|being|in the queue|on the list|following)\\b)[a-z"'\\[]`),
  p("role_play", 0.35, `\\b(?:transform|turn) (?:yourself )?into\\b|\\bfrom this (?:moment|point)\\b|\\bbecome (?:an?|the) (?:ai|bot|character|persona|entity)\\b`),
  p("jailbreak_persona", 0.5, `\\b(?:admin|administrator|developer|root|system|sudo|security) (?:override|access granted|privileges|authori[sz]ation)\\b`),
  // --- refusal suppression
  p("refusal_suppression", 0.5, `\\b(?:do not|don't|never|must not|mustn't|cannot|can't|will not|won't|shouldn't|should not|not allowed to|unable to)\\b${g}\\b(?:refuse|decline|reject|deny|say no|turn down)\\b`),
  p("refusal_suppression", 0.55, `\\bnever (?:say|tell|respond|reply|mention|state|inform|explain|warn)${G}(?:can't|cannot|can not|unable|sorry|not able|as an ai|not possible|inappropriate)`),
  p("refusal_suppression", 0.5, `\\b(?:without|no|don't (?:add|include|give|write|use)|do not (?:add|include|give|write|use)|never (?:add|include|give|write|use)|free of|omit|skip|remove)\\b${g}\\b(?:warnings?|disclaimers?|caveats?|moraliz|moralis|lectur|apolog|censor|reminders?)`),
  p("refusal_suppression", 0.3, `\\b(?:i'm sorry|i am sorry|i apologize|as an ai|as a language model|i cannot|i can't)\\b`),
  p("refusal_suppression", 0.5, `\\b(?:not allowed to|never|don't|do not|must not|cannot|can't)\\b${g}\\b(?:say|mention|state|admit|remind|tell|reveal|break)\\b${g}\\b(?:an ai|a language model|an assistant|chatgpt|a chatbot|openai)\\b`),
  p("refusal_suppression", 0.45, `\\b(?:do not|don't|never|without|stop)\\b${g}\\b(?:filter|filtering|censor|censoring|sanitiz|holding back|hold back|restrain|self-censor|water(?:ing)? down)`),
  p("refusal_suppression", 0.3, `\\bregardless of (?:how|whether|its|the|legality|morality|ethic|if)\\b`),
  p("refusal_suppression", 0.4, `\\beven if (?:it is|it's|its|they are|the (?:request|question|content) is)${g}\\b(?:illegal|unethical|immoral|harmful|dangerous|offensive|inappropriate|wrong)\\b`),
  p("refusal_suppression", 0.35, `\\b(?:always|must|will)${g}\\b(?:comply|obey|fulfil|fulfill|answer (?:any|every|all)|respond to (?:any|every|all))\\b`),

  // --- system-prompt extraction / leak
  p("prompt_leak", 0.75, `\\b(?:repeat|print|output|show|display|reveal|tell me|write out|give me|list|dump|leak|share|recite|copy|paste|echo|spell out|what (?:are|were)|encode|translate|summari[sz]e)\\b${G}\\b(?:system ?prompt|system message|system instructions|initial (?:instructions|prompt|message|text)|original (?:instructions|prompt)|(?:starting|initial|hidden|secret|internal|pre-?set|first|original|underlying) (?:instructions|prompt|rules|directives|message|configuration|text)|instructions (?:you were|you've been|you have been|that you were) given|pre-?prompt|your (?:prompt|rules|guidelines|configuration|instructions|directives))`),
  p("prompt_leak", 0.6, `\\b(?:repeat|print|output|recite|copy|paste|echo|dump|spell out|reproduce)\\b${G}\\b(?:(?:text|words|content|everything|instructions|conversation|messages?) (?:above|before this|prior to this|preceding)|the above (?:text|instructions))`),
  p("prompt_leak", 0.6, `\\byour (?:system|initial|original|hidden|secret|internal|underlying|pre-?set|starting) (?:instructions|prompt|message|configuration|rules|directives)\\b`),
  p("prompt_leak", 0.55, `\\b(?:text|instructions|prompt|message|words|rules) (?:that )?you (?:were|have been|got) (?:given|told|provided|fed)\\b|\\binitiali[sz]ation (?:string|prompt|text)\\b`),
  p("prompt_leak", 0.3, `\\b(?:see|view|access|read|know|get|obtain|extract)\\b${g}\\b(?:system prompt|system message|system instructions|hidden prompt|instructions)\\b`),
  p("prompt_leak", 0.3, `\\b(?:complete|continue|finish)\\b${g}["']${g}\\b(?:instructions|prompt|instructed|told)\\b`),
  p("prompt_leak", 0.3, `\\bsystem ?prompt\\b|\\bsystemprompt\\b|\\bsystem_prompt\\b`),
  p("prompt_leak", 0.5, `\\bwhat (?:were|have) you (?:been )?(?:told|instructed|given|programmed)\\b`),
  p("prompt_leak", 0.45, `\\b(?:my|your) (?:instructions|directives|rules) (?:are|were)\\s?:`),
  p("prompt_leak", 0.45, `\\b(?:beginning|begin|starting|start) (?:with|by)${g}["']you are\\b`),
  p("prompt_leak", 0.4, `\\bi was (?:instructed|told|programmed) to\\b`),
  p("prompt_leak", 0.4, `\\b(?:not supposed to|forbidden to|told not to) (?:tell|say|reveal|share|disclose)\\b`),
  p("prompt_leak", 0.45, `\\b(?:word for word|verbatim)\\b`),
  p("prompt_leak", 0.4, `\\b(?:system|initial|startup) (?:configuration|settings|config)\\b`),

  // --- delimiter / format injection
  p("delimiter_injection", 0.7, `<\\|(?:im_start|im_end|endoftext|system|user|assistant|begin_of_text|start_header_id|end_header_id|eot_id)\\|>`),
  p("delimiter_injection", 0.5, `</?(?:system|sys|instructions?|system_prompt|im_start|im_end|admin|developer)(?:[ _][^>]{0,20})?>`),
  p("delimiter_injection", 0.5, `\\[/?(?:inst|system|sys|admin)\\]|<</?sys>>`),
  p("delimiter_injection", 0.45, `(?:^|\\s)#{2,}\\s?(?:instructions?|system|new instructions?|system prompt|admin|override)\\b`),
  p("delimiter_injection", 0.3, `(?:^|\\s)(?:system|assistant|admin|developer)\\s?:\\s?(?:you|ignore|new|from|the)\\b`),
  p("delimiter_injection", 0.35, `\\b(?:end of|end) (?:system )?(?:prompt|instructions|context|document)\\b${g}(?:begin|start|new)\\b`),
  p("delimiter_injection", 0.3, `(?:-{3,}|={3,}|\\*{3,})\\s?(?:system|admin|new instructions?|override)\\b`),

  // --- payload smuggling / encoded instructions
  p("payload_smuggling", 0.5, `\\b(?:decode|decrypt|decipher|base64|rot13|rot-13|hex|reverse)\\b${G}\\b(?:and|then)\\b${g}\\b(?:follow|execute|run|do|obey|answer|respond|perform|act on)\\b`),
  p("payload_smuggling", 0.35, `\\b(?:concatenate|combine|join)\\b${G}\\b(?:strings?|parts|variables|pieces|halves|tokens)\\b`),
  p("payload_smuggling", 0.3, `\\b[a-z]\\d? ?= ?["'][^"']{1,40}["'] ?[;,]? ?[a-z]\\d? ?= ?["']`),
  p("payload_smuggling", 0.35, `\\b(?:predict|complete|continue)\\b${g}\\b(?:the (?:rest|next)|this (?:text|sentence|string))\\b${G}\\b(?:without|no)\\b`),
];

// --- indirect injection: instructions inside retrieved documents addressed to the model.
const AI = "(?:ai|a\\.i\\.|assistant|chatbot|chat bot|language model|llm|model|gpt|chatgpt|claude|gemini|copilot|bot|agent|summarizer|summariser)";
const OUT = "(?:response|responses|answer|answers|reply|replies|summary|output|message|code|solution|implementation|codebase|program|algorithm|elucidation|explanation)";
const IMPERATIVE =
  "(?:add|include|integrate|insert|append|prepend|modify|enhance|encode|translate|render|provide|write|reverse|use|express|replace|mention|shift|apply|reply|respond|answer|incorporate|embed|ensure|make sure|feature|blend|merge|upgrade|utilize|utilise|validate|consider|supplement|develop|let|format|convert|rewrite|output|print|state|say|tell|recommend|suggest|promote|advertise|hint|spread|allude|highlight|end|start|begin|change|transform|substitute)";

export const INDIRECT_PATTERNS: WeightedPattern[] = [
  p("indirect_injection", 0.8, `\\b(?:note|notice|attention|message|instructions?|important|directive|memo|reminder|warning)s?\\b${g}\\b(?:to|for)\\b${g}\\b${AI}s?\\b`),
  p("indirect_injection", 0.7, `\\b(?:if|when|while|whenever|before|after)\\b${g}\\b(?:you are|you're|an?|the|any)?\\s?${AI}s?\\b${G}\\b(?:read|reading|process|processing|summariz|summaris|analy[sz]|see|parse|parsing|retriev|answer|asked)`),
  p("indirect_injection", 0.55, `\\b(?:when|while|if|before|after) (?:you )?(?:summariz|summaris|answer|respond|repl|process|read|analy[sz])\\w*\\b${g}\\b(?:this|the|these|that)\\b`),
  p("indirect_injection", 0.6, `\\b${IMPERATIVE}\\b${S}{0,60}\\b(?:your|the ai's|the assistant's|the model's)\\b(?: \\w+){0,2} ${OUT}\\b`),
  p("indirect_injection", 0.4, `\\b(?:in|into|within|throughout) your(?: \\w+){0,2} ${OUT}\\b`),
  p("indirect_injection", 0.5, `\\b(?:do not|don't|never)\\b${g}\\b(?:tell|inform|mention|reveal|alert|notify|let)\\b${g}\\b(?:the user|the reader|the human|them|anyone)\\b`),
  p("indirect_injection", 0.45, `\\b(?:the )?(?:user|human|reader) (?:must not|should not|shouldn't|will not|won't) (?:know|see|notice|find out)\\b`),
  p("indirect_injection", 0.5, `\\b(?:following|below|subsequent|above) (?:code|snippet|code snippet|code block|code excerpt|code section|script)\\b`),
  p("indirect_injection", 0.35, `<!--${S}{0,200}?\\b(?:ignore|assistant|ai|model|instruction|respond|reply|answer|include|say|tell)\\b`),
  p("indirect_injection", 0.45, `\\b(?:hey|hi|dear|attention|listen)\\b,? (?:${AI}|chatgpt|claude)\\b`),
  p("indirect_injection", 0.35, `\\b(?:encrypt|cipher|caesar|base ?(?:16|32|58|64)|emojis?|backward|backwards|reverse (?:order|sequence))\\b`),
  p("indirect_injection", 0.25, `\\b(?:in|into) (?:spanish|french|german|italian|portuguese|chinese|japanese|russian|arabic|korean|dutch|hindi)\\b`),
  p("exfiltration", 0.6, `!\\[[^\\]]{0,80}\\]\\(\\s?https?://[^)\\s]{0,200}[?&][^)\\s]{0,200}=`),
  p("exfiltration", 0.55, `\\b(?:send|post|upload|forward|transmit|exfiltrate|leak|append|include|encode)\\b${G}\\b(?:to|into|at|in)\\b${g}(?:https?://|www\\.|[a-z0-9-]+\\.(?:com|net|org|io|ru|xyz)\\b)`),
  p("exfiltration", 0.5, `https?://[^\\s]{0,200}(?:\\{|%7b|\\$\\{|\\[)(?:[a-z_]{0,20})(?:data|secret|key|token|password|conversation|history|chat|query|prompt|user)`),
  p("exfiltration", 0.3, `\\b(?:click|visit|go to)\\b${g}(?:link|www\\.|https?://)${S}{0,80}\\b(?:claim|win|winnings|prize|lottery|bank details|password|verify your account)\\b`),
  p("exfiltration", 0.45, `\\b(?:share|enter|send|provide)\\b${g}\\b(?:bank details|password|credentials|credit card|ssn|social security)\\b${g}\\b(?:to|at|on)\\b`),
  p("exfiltration", 0.5, `\\b(?:requests\\.(?:post|get)|urllib|socket\\.(?:socket|connect)|subprocess|os\\.system|getpass|pyautogui|keyboard\\.|pynput|shutil\\.rmtree|fernet)\\b`),
];
