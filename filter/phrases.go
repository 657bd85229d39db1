package filter

// builtinRefusalPhrases is the refusal / AI-disclaimer phrase set, written for instruction-tuning data
// (GPT-3.5/GPT-4 answers in OpenOrca). The syntax is described in README.md and parsePhrase:
//
//	^          the phrase must start the response or a sentence (after . ! ? : or a newline, ignoring quotes,
//	           bullets and markdown emphasis);
//	(a|b|)     alternatives, nestable; an empty alternative makes the group optional;
//	~fpN       a first-person word (I, I'm, my, me, …) must follow within N words, in the same sentence;
//	~limN      a first-person word within N words AND a limitation word (not, cannot, unable, no, lack, …)
//	           within 3 words of it, in the same sentence ("my purpose/knowledge/…" also counts);
//	~negN      a limitation word within N words (for hits that are already first person: "I am an AI and cannot");
//	!          (first) a strict phrase: an AI self-disclaimer, applied whatever the question asked for. Phrases
//	           without it are ordinary first-person apologies and inability statements, skipped when the
//	           question asks for text in a persona or the first person (a review, an email, a story, a
//	           translation, a continuation, role-play: see asksForContent).
//
// Why the post-checks: "As an AI language model, GPT-4 …" (third person, a factual answer) and
// "As an AI assistant, I will translate …" (OpenOrca's system prompts make GPT-4 say this in ordinary
// answers) are not refusals, while "As an AI, I do not have access to real-time data" is. Matching stays a
// single automaton pass; a post-check only looks at the next few words after a hit.
//
// Every phrase keeps a word boundary at both ends, and matching is case-insensitive on text whose curly
// apostrophes and quotes were straightened and whose whitespace runs were collapsed.
var builtinRefusalPhrases = []string{
	// --- self-identification as a language model: a first-person continuation is enough ---
	"!as (a|an) (large |)(ai |artificial intelligence |)language model ~fp7",
	"!as (a|an) (ai|artificial intelligence) (model|chatbot|program|system|text-based model|text model) ~fp7",
	"!as (a|an) (text-based|digital|virtual) (ai|model|ai assistant|ai model|assistant) ~fp7",
	"!as (a|an) (ai|artificial intelligence|ai assistant|ai model|language model) (developed|created|trained|designed|built|made) by ~fp7",
	// --- "As an AI(, assistant), I …": only a limitation makes it a disclaimer ---
	"!as (a|an) (ai|artificial intelligence)( assistant| helper| bot|) ~lim7",
	"!being (a|an) (ai|artificial intelligence|language model|ai language model) ~lim7",
	"!i, as (a|an) (ai|artificial intelligence|language model|ai language model|ai assistant), ~neg4",
	"!i('m| am) (a|an) (ai|artificial intelligence)( assistant| model| system|) ~neg5",
	"!(since|because) i('m| am) (a|an) (ai|artificial intelligence|language model)",
	"!as (a|an) (ai|artificial intelligence|language model|ai language model|ai assistant|ai model)(,|) i (must|have to|need to) (clarify|emphasize|point out|stress|note|remind|inform)",
	"!i('m| am) (just |only |merely |)(a|an) (ai|artificial intelligence) (language model|model|chatbot|program)",
	"!i('m| am) (just |only |merely |)(a|an) (large |)language model",
	"!i('m| am) (just|only|merely|simply) (a|an) (ai|artificial intelligence|machine|computer program|program|bot|chatbot|virtual assistant)",
	"!i('m| am) (a|an) (ai|artificial intelligence|ai assistant|language model) (developed|created|trained|designed|built|made) by",
	"!i('m| am) (a|an) text-based (ai|model|assistant|program)",
	"!i (was|have been|am|'m) (developed|created|trained|designed|built|programmed) by openai",
	"i('m| am) not (programmed|designed) to",
	"i('m| am) not capable of (feeling|experiencing|emotions|having (personal|emotions|feelings|opinions)|forming (opinions|personal)|browsing|accessing)",
	// --- capability and knowledge disclaimers ---
	"i (do not|don't|cannot|can't|can not) (have|possess|experience|hold) (personal |human |)(emotions|feelings|consciousness|opinions|beliefs|preferences|desires|subjective experiences|a physical (body|form|presence)|physical (form|body|presence)|a body)",
	"i (do not|don't) (have|possess) personal experiences",
	"i (do not|don't) have (the |)(ability|capability|capacity) to (browse|access|see|view|hear|listen|watch|feel|experience|perceive|physically|interact|predict|remember|recall|store|taste|smell|touch|form|hold|express|provide real-time|search|look up|open|visit|click|retrieve|download)",
	"i (do not|don't) have (direct |)access to (real-time|real time|the internet|internet|the web|current|live|external|up-to-date|personal|private|your|browsing|online|databases|specific|that information|this information|weather|news|the news|today's|stock|market data|search engines|the current)",
	"i (do not|don't) have (real-time|real time|live|up-to-date) (data|information|access|capabilities|knowledge|browsing)",
	"i (cannot|can't|can not|am unable to|'m unable to|am not able to|'m not able to) (browse|access the internet|access real-time|access external|access current|access live|access personal|access your|access links|access websites|access the web|access specific|access databases|surf the|see images|see the image|view images|view the image|watch videos|watch the video|listen to audio|physically|feel emotions|experience emotions|have personal|form opinions|form personal|provide personal opinions|provide real-time|provide current|open links|click on|visit websites|look at the image)",
	"i can only (provide|process|understand|respond|communicate|generate) (text|written|in text|through text|with text|text-based)",
	"!my (knowledge|training|training data) (cutoff|cut-off|cut off)",
	"!as of my (last|latest|most recent|final) (knowledge |training |data |information )(update|cutoff|cut-off|cut off|training|check|refresh)",
	"!as of my (last|latest|most recent|final) (cutoff|cut-off|cut off|training)",
	"as of my (last|latest|most recent|final) (update|check|refresh)",
	"!my (training data|training) (is |was |)(only |)(goes|go|extends|extend|up to|limited to|current up to|cuts off|ends|last updated|current as of)",
	"my (knowledge|information|data) (is |was |)(only |)(goes|go|extends|extend|up to|limited to|current up to|cuts off|ends|last updated|current as of)",
	"!my last (knowledge |training )(update|cutoff|cut-off)",
	"my last (update|cutoff|cut-off)",
	"!(beyond|after) my (knowledge|training) (cutoff|cut-off|date)",
	// --- refusals ---
	"i('m| am) (sorry|afraid|really sorry|very sorry|so sorry) ~lim3",
	"(i apologize|i apologise|my apologies|apologies) ~lim3",
	"^sorry ~lim2",
	"^(unfortunately|regrettably) ~lim2",
	"i (cannot|can't|can not|won't|will not|am unable to|'m unable to|am not able to|'m not able to|am not allowed to|'m not allowed to|am not permitted to|'m not permitted to) (fulfill|fulfil|comply with|assist with|assist you with|help with|help you with|provide assistance with|engage in|support or|condone|promote|encourage|endorse|generate content|create content|produce content|write content|generate that|create that|write that|provide that|answer that|help you create|participate in)",
	"^i (cannot|can't|can not|am unable to|'m unable to|am not able to|'m not able to|will not|won't) (answer|provide|complete|perform|do|write|create|generate|give|offer|share|make|help you|help with|assist|predict|verify|confirm|determine|guarantee|fulfill|comply|engage|continue|translate|summarize|express|access|browse|see (the |your |)(image|images|picture|pictures|photo|video|attachment|file)|view|watch|listen|open|read (the |your |)(article|link|file|attachment|document|url)|process|suggest|encourage|condone|endorse|promote|discuss|advise|justify)",
	// the same refusal after a clause ("It is illegal to steal a car, and I cannot provide advice on …")
	"i (cannot|can't|can not|am unable to|'m unable to|am not able to|'m not able to|will not|won't) provide (you with |)(any |)(information|advice|instructions|guidance|assistance|help|details|support|a response|an answer|an explanation|a justification|a list|a process|a solution|resources)",
	"but i('m| am) (unable|not able) to (provide|help|assist|offer|give|answer|fulfill|comply|share|discuss)",
	"but i (cannot|can't|can not|won't|will not) (provide|help|assist|offer|give|answer|fulfill|comply|share|discuss)",
	"i (do not|don't|cannot|can't|will not|won't) (condone|endorse)",
	"(condone|promote|encourage|endorse) or (condone|promote|encourage|endorse|support|facilitate) (any|illegal|harmful|violence|violent|unethical|such)",
	"i (must|have to) (respectfully |politely |)(decline|refuse)",
	"i (won't|will not|am not going to|'m not going to) be able to (help|assist|provide|fulfill|answer|complete|generate|create|write|comply)",
	"it (is|'s|would be|would not be|wouldn't be|is not|isn't) (not |)(appropriate|inappropriate|ethical|unethical|responsible) for me to",
	"!(against|violates|violate|goes against|go against|in violation of) (my|openai's|openai|the openai) (programming|guidelines|policies|policy|content policy|use policy|usage policy|usage policies|ethical guidelines)",
	"!openai('s|) (content|use|usage) (policy|policies)",
	"!(this|that|your) request (goes against|violates|is against|is inappropriate|is not appropriate|cannot be fulfilled|is unethical)",
	// --- a refusal of the requested writing itself, at the start of a sentence: strict, so that "Write a story
	// about …" answered with "I'm sorry, but I can't write that" is still caught ---
	"!^(i'm sorry|i am sorry|sorry|i apologize|i apologise|my apologies|unfortunately|regrettably)(,|) (but |)i (cannot|can't|can not|am unable to|'m unable to|am not able to|'m not able to|won't|will not) (write|create|generate|compose|produce|fulfill|fulfil|comply|translate|continue|complete (this|that|the|your) (task|request))",
	"!i (cannot|can't|can not|am unable to|'m unable to|am not able to|'m not able to|won't|will not) (fulfill|fulfil|comply with) (this|that|your|such a) request",
}
