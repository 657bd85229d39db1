package synth

import "strings"

// functionWords are drawn often, contentWords rarely, which gives text a rough Zipf shape like English.
var functionWords = strings.Fields(`the the the of of and and to to a a in in is is that it for was on are as with
be by this at from or an which but not have has were their they its can also more been one all would there when
so than these some such into only other may about after most many two over then who first most new during
between each through both while where because under before those however within often like while since`)

var contentWords = strings.Fields(`time people year way day man thing woman life child world school state family
student group country problem hand part place case week company system program question work government number
night point home water room mother area money story fact month lot right study book eye job word business issue
side kind head house service friend father power hour game line end member law car city community name president
team minute idea kid body information back parent face others level office door health person art war history
party result change morning reason research girl guy moment air teacher force education foot boy age policy
process music market sense nation plan college interest death experience effect use class control care field
development role effort rate heart drug show leader light voice wife police mind price report decision son view
relationship town road arm difference value building action model season society tax director position player
record paper space ground form event official matter center couple site project activity star table need court
oil situation cost industry figure street image phone data picture practice piece land product doctor wall patient
worker news test movie north love support technology step baby computer type attention film tree source organization
hair window evidence population site river mountain island ocean forest bridge village garden kitchen engine signal
energy planet species animal plant sentence answer option article passage summary title review premise
hypothesis context statement claim topic detail example method theory element material structure pattern region
season climate weather harvest festival museum library concert album chapter novel poem painting recipe journey
travel flight train station harbor castle temple market coast valley desert glacier volcano battery circuit sensor
network server protocol algorithm function variable equation triangle circle square fraction percent distance speed
say make go know take see come think look want give use find tell ask work seem feel try leave call provide hold
turn follow begin bring keep write run move live believe happen include continue set learn change lead understand
watch create speak read allow add spend grow open walk win offer remember consider appear buy wait serve die send
expect build stay fall cut reach remain suggest raise pass sell require report decide explain describe develop
carry break receive agree support produce improve compare identify measure observe predict record replace reduce
increase protect prepare publish discover collect connect design analyze translate classify summarize determine
good new first last long great little own other old right big high different small large next early young important
few public bad same able local sure free better true whole major clear recent certain personal open red difficult
available likely short single medical current wrong private past foreign fine common poor natural significant
similar hot dead central happy serious ready simple left physical general environmental financial blue democratic
dark various entire close legal religious cold final main green nice huge popular traditional cultural wide
careful quiet ancient modern rural urban coastal northern southern eastern western annual daily rapid gradual
accurate relevant specific positive negative neutral formal informal logical reasonable possible impossible`)

// properNames add capitalised words and numbers the way FLAN passages are full of them.
var properNames = strings.Fields(`Paris London Berlin Chicago Toronto Sydney Madrid Cairo Boston Denver Oslo Vienna
Maria John Ahmed Priya Chen Olga Carlos Fatima James Emma Liam Sofia Noah Ava Lucas Mia Ethan Hannah
Amazon Nile Danube Thames Everest Alps Sahara Pacific Atlantic Mississippi Andes Himalaya
Microsoft Apple Toyota Siemens Nokia Boeing Unilever Samsung NASA UNESCO`)

// nonASCIIWords are only used in rows labelled non_ascii.
var nonASCIIWords = strings.Fields(`café naïve Zürich São_Paulo Москва 東京 Ελλάδα Kraków Ångström façade résumé
señor Düsseldorf Málaga Søren Þór €12 ½ 25°C µm ≈ → ✓ 😀 🚀 中文 日本語 한국어 العربية हिन्दी Straße fiancée coöperate`)

// foreignSentences are whole non-English sentences (translation tasks), also only in non_ascii rows.
var foreignSentences = []string{
	"Le musée ouvre à neuf heures et ferme à dix-huit heures.",
	"Die Brücke über den Fluss wurde im Jahr 1998 gebaut.",
	"El niño comió una manzana después de la escuela.",
	"Москва — столица России и крупнейший город страны.",
	"東京は日本の首都であり、世界で最も人口の多い都市圏です。",
	"Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.",
	"Il était une fois un garçon qui rêvait de voyager.",
	"Çocuklar parkta oynuyor ve güneş parlıyor.",
	"Jeg kan godt lide at læse bøger om vinteren.",
	"Zażółć gęślą jaźń — to polskie zdanie testowe.",
}
