"""Which language a resident writes in: Spanish (Mexico City usage) or English.

Messages are short ("sí", "Insurgentes 1602", "ok"), so a statistical
detector guesses wildly on them; instead we count function words and
everyday words of each language and only answer when one clearly wins.
`None` means "can't tell": the conversation then keeps its language.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Optional

SPANISH = "es"
ENGLISH = "en"

_ES_WORDS = set(
    """
    a al algo aqui ahi alla ando anda ayer ayuda bache banqueta basura buenas buenos buen
    camion casa coladera como con cual cuando de del desde donde el ella
    ellos en enfrente entre es esa ese esta estan este esto estoy fuga gracias
    hace hay hola la las le lo los luz mas me mi mis muy nada ni nos nuestra nuestro
    o oiga oye para pero poco por porque pues que quiero quisiera reporte reportar se
    semaforo si sigue sin sobre son su sus tambien tengo tiene toda todo todos tu un una
    uno unos ya yo agua arbol ruido perro gato carro coche vecino vecinos dias semana
    noche tarde manana favor cancelar cancela ayudame puedes haces sirves otra vez
    olvidalo adios chido neta wey orale gueno bueno va cuanto mucho mucha ahorita
    foco lampara poste tiradero drenaje estatus denuncia sintomas
    fiebre tos robo robaron celular
    """.split()
)
_EN_WORDS = set(
    """
    a about and any are at be been broken but by can cancel could days do does down
    for from get going got has have he help hello hey hi how i in is it its just know
    leak light like me my near need next no not now of off on or our out over please
    pothole report right she since so some street sure that the their there theyre
    this to trash tree up us very want was water we week were what whats when where
    which who why will with would yes yeah yep you your thanks thank bye goodbye
    garbage sidewalk noise traffic graffiti car dog cat dead corner avenue road lights
    working status request anything else start over again symptoms fever cough stolen
    phone stole
    """.split()
)
# Words that belong to both languages (or carry no signal) never count.
_SHARED = (_ES_WORDS & _EN_WORDS) | {"ok", "okay", "no"}

_WORD = re.compile(r"[a-z]+")


def _fold(text: str) -> str:
    """Lowercase and strip accents, so 'está' and 'esta' count the same."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def detect_language(text: str) -> Optional[str]:
    """Return 'es', 'en' or None when the message does not say."""
    if not text:
        return None
    es_score = 0.0
    en_score = 0.0
    # Marks only Spanish sentences use. Accented letters don't count: English
    # speakers write place names like "Cuauhtémoc" or "Benito Juárez" too.
    if re.search(r"[¿¡]", text):
        es_score += 2
    for word in _WORD.findall(_fold(text)):
        if word in _SHARED:
            continue
        if word in _ES_WORDS:
            es_score += 1
        if word in _EN_WORDS:
            en_score += 1
    if es_score == en_score:
        return None
    if es_score > en_score and es_score >= 1:
        return SPANISH
    if en_score > es_score and en_score >= 1:
        return ENGLISH
    return None
