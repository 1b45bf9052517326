import type { Rng } from "./rng.js";

/**
 * Portuguese-like text: real function words and common news words, plus topic words per section so
 * that articles of a section share vocabulary (what the content vectors should pick up). Invented
 * text, no real article is reproduced.
 */
const FUNCTION_WORDS = (
  "de a o que e do da em um para com não uma os no se na por mais as dos como mas foi ao ele das " +
  "à seu sua ou ser quando muito há nos já está também só pelo pela até isso entre era depois sem " +
  "mesmo aos ter seus quem nas me esse eles estão você tinha foram essa num nem suas meu às minha " +
  "numa pelos elas havia seja qual será nós tenho lhe deles essas esses pelas este fosse dele"
).split(" ");

const COMMON_WORDS = (
  "governo cidade estado país brasil pessoas anos dia semana mês ano segundo durante contra sobre " +
  "projeto trabalho família casa polícia prefeitura município região moradores população caso " +
  "informações dados pesquisa resultado programa serviço empresa mercado preço valor milhões mil " +
  "público nacional federal estadual local nova novo grande primeiro primeira última último maior " +
  "menor rua bairro centro escola hospital saúde vida tempo água energia obra obras mudança " +
  "afirmou disse informou explicou declarou anunciou confirmou registrou divulgou apresentou " +
  "segundo conforme aconteceu ocorreu começou terminou deve pode vai vão podem devem continua " +
  "equipe grupo presidente secretário ministro diretor representante especialistas autoridades " +
  "acidente investigação operação decisão eleição campanha candidato candidata votação evento " +
  "festival show música filme série vacina doença tratamento vagas emprego salário inscrições"
).split(" ");

export const TOPIC_WORDS: Record<string, readonly string[]> = {
  politica:
    "congresso senado câmara deputado senador partido votação tse chapa coligação plenário urna debate".split(
      " ",
    ),
  economia:
    "inflação juros dólar bolsa ibovespa pib renda imposto tributo combustível gasolina safra exportação".split(
      " ",
    ),
  mundo: "guerra ucrânia rússia eua europa china embaixada diplomacia fronteira refugiados onu otan".split(
    " ",
  ),
  saude:
    "covid vírus vacinação dose sintomas infecção leitos hospitais médicos anvisa epidemia varíola".split(
      " ",
    ),
  educacao: "enem vestibular universidade alunos professores matrículas ensino aulas bolsa sisu prouni".split(
    " ",
  ),
  ciencia: "cientistas pesquisadores estudo espécie descoberta laboratório astronomia planeta fósseis".split(
    " ",
  ),
  tecnologia:
    "aplicativo celular internet redes golpe dados privacidade inteligência artificial software".split(" "),
  "pop-arte": "cantor cantora álbum single novela atriz ator estreia turnê compositor samba streaming".split(
    " ",
  ),
  fantastico:
    "reportagem denúncia entrevista exclusiva investigação revela bastidores domingo história".split(" "),
  "meio-ambiente": "desmatamento amazônia queimadas floresta clima chuva seca garimpo rios espécies".split(
    " ",
  ),
  "jornal-nacional":
    "reportagem brasília tribunal supremo julgamento ministro decisão entrevista candidatos".split(" "),
  carros: "veículo motor modelo lançamento recall motorista trânsito rodovia combustível elétrico".split(" "),
  "turismo-e-viagem": "praia viagem roteiro hotel passagens aeroporto férias turistas destino trilha".split(
    " ",
  ),
  regional:
    "prefeito vereador câmara bairro avenida rodovia br trânsito bombeiros pm delegacia temporal".split(" "),
};

const QUOTE_OPEN = ['"', "“", "'"];

function capitalise(word: string): string {
  return word.length === 0 ? word : (word[0] as string).toUpperCase() + word.slice(1);
}

/** Picks a word: function words most often, then common words, then the topic's. */
function word(rng: Rng, topic: readonly string[]): string {
  const x = rng.next();
  if (x < 0.42) return rng.pick(FUNCTION_WORDS);
  if (x < 0.72) return rng.pick(COMMON_WORDS);
  return rng.pick(topic);
}

export function topicWords(section: string): readonly string[] {
  return TOPIC_WORDS[section] ?? TOPIC_WORDS.regional ?? [];
}

export function sentence(rng: Rng, topic: readonly string[], min = 8, max = 22): string {
  const n = min + rng.int(max - min + 1);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(word(rng, topic));
  if (rng.chance(0.15)) words.splice(1 + rng.int(n - 1), 0, `${1 + rng.int(999)}`);
  let s = `${capitalise(words.join(" "))}.`;
  if (rng.chance(0.12)) {
    const q = rng.pick(QUOTE_OPEN);
    const close = q === "“" ? "”" : q;
    s = `${q}${s.slice(0, -1)}${close}, ${rng.pick(["disse", "afirmou", "explicou", "contou"])} ${rng.pick(["o", "a"])} ${rng.pick(["secretário", "delegado", "moradora", "especialista", "prefeito"])}.`;
  }
  return s;
}

export function title(rng: Rng, topic: readonly string[]): string {
  const n = 6 + rng.int(9);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(i % 3 === 1 ? rng.pick(topic) : word(rng, topic));
  let t = capitalise(words.join(" "));
  if (rng.chance(0.2)) t = `${t}, ${rng.pick(["diz", "afirma", "aponta"])} ${rng.pick(COMMON_WORDS)}`;
  if (rng.chance(0.1)) t = `${rng.pick(["VÍDEO", "Covid-19", "Eleições 2022"])}: ${t}`;
  if (rng.chance(0.05)) t = `'${t}'`;
  return t;
}

/** A multi-line body: paragraphs separated by newlines, some with quoted speech. */
export function body(rng: Rng, topic: readonly string[]): string {
  const paragraphs = 2 + Math.min(40, Math.round(rng.logNormal(Math.log(8), 0.6)));
  const out: string[] = [];
  for (let p = 0; p < paragraphs; p++) {
    const sentences = 1 + rng.int(3);
    const parts: string[] = [];
    for (let s = 0; s < sentences; s++) parts.push(sentence(rng, topic));
    out.push(parts.join(" "));
  }
  return out.join("\n");
}
