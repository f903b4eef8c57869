package org.routecal.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Multilingual demo text, written for this project (no third-party text). The first twelve sentences of every language
 * are translations of {@link #PARALLEL_EN}, which lets the generator build translation chats; the rest are extra
 * sentences in that language only. Greek, Cyrillic (Russian, Ukrainian, Bulgarian) and CJK (Chinese, Japanese,
 * Korean) are the scripts the demo model routes to their own expert groups.
 */
final class MultilingualTexts {
    private MultilingualTexts() {}

    /** A language: code, English name, whether sentences are joined without spaces, sentences, a numeric template. */
    record Language(String code, String name, boolean noSpaces, List<String> sentences, String numberTemplate) {}

    static final List<String> PARALLEL_EN = List.of(
            "The sun rises over the sea every morning.",
            "The city library opens at nine o'clock.",
            "The children play in the school yard.",
            "My grandfather tells stories about his village.",
            "The train leaves in one hour.",
            "My grandmother is baking a pie.",
            "In winter the mountain is covered with snow.",
            "The coffee is hot and the bread is fresh.",
            "The student is reading a book about ancient history.",
            "The fishermen return to the harbour before sunset.",
            "The museum shows old paintings.",
            "The market is full of fruit and vegetables.");

    static final Language EL = new Language("el", "Greek", false, List.of(
            "Ο ήλιος ανατέλλει πάνω από τη θάλασσα κάθε πρωί.",
            "Η δημοτική βιβλιοθήκη ανοίγει στις εννέα.",
            "Τα παιδιά παίζουν στην αυλή του σχολείου.",
            "Ο παππούς μου διηγείται ιστορίες για το χωριό του.",
            "Το τρένο φεύγει σε μία ώρα.",
            "Η γιαγιά μου ψήνει μια πίτα.",
            "Τον χειμώνα το βουνό είναι καλυμμένο με χιόνι.",
            "Ο καφές είναι ζεστός και το ψωμί είναι φρέσκο.",
            "Η φοιτήτρια διαβάζει ένα βιβλίο για την αρχαία ιστορία.",
            "Οι ψαράδες γυρίζουν στο λιμάνι πριν από τη δύση του ηλίου.",
            "Το μουσείο δείχνει παλιούς πίνακες.",
            "Η αγορά είναι γεμάτη φρούτα και λαχανικά.",
            "Ο γιατρός λέει ότι πρέπει να πίνουμε πολύ νερό.",
            "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.",
            "Ο δάσκαλος εξηγεί το πρόβλημα με υπομονή.",
            "Η ελιά είναι ένα από τα πιο παλιά δέντρα της Μεσογείου.",
            "Σήμερα ο ουρανός είναι καθαρός και γαλανός.",
            "Οι φίλοι μου ταξιδεύουν με το πλοίο στην Κρήτη.",
            "Η μουσική ακούγεται από το ανοιχτό παράθυρο.",
            "Το φθινόπωρο τα φύλλα γίνονται κίτρινα και κόκκινα.",
            "Η γάτα κοιμάται δίπλα στο ζεστό τζάκι.",
            "Στο καφενείο οι γέροι παίζουν τάβλι.",
            "Το καλοκαίρι κολυμπάμε στη ζεστή θάλασσα.",
            "Η μητέρα μου μαγειρεύει φασολάδα την Κυριακή."),
            "Η θερμοκρασία σήμερα είναι %d βαθμοί Κελσίου.");

    static final Language RU = new Language("ru", "Russian", false, List.of(
            "Каждое утро солнце встаёт над морем.",
            "Городская библиотека открывается в девять часов.",
            "Дети играют во дворе школы.",
            "Мой дедушка рассказывает истории о своей деревне.",
            "Поезд отправляется через час.",
            "Моя бабушка печёт пирог.",
            "Зимой гора покрыта снегом.",
            "Кофе горячий, а хлеб свежий.",
            "Студентка читает книгу по древней истории.",
            "Рыбаки возвращаются в гавань до заката.",
            "В музее показывают старые картины.",
            "Рынок полон фруктов и овощей.",
            "Врач говорит, что нужно пить больше воды.",
            "Река замёрзла, и все катаются на коньках.",
            "Учитель терпеливо объясняет задачу.",
            "Сегодня небо ясное и голубое.",
            "Мои друзья едут на поезде к морю.",
            "Из открытого окна слышна музыка.",
            "Осенью листья становятся жёлтыми и красными.",
            "Кошка спит на тёплом подоконнике.",
            "Вечером мы пьём чай с вареньем.",
            "Москва стоит на берегу реки."),
            "Автобус номер %d останавливается у вокзала.");

    static final Language UK = new Language("uk", "Ukrainian", false, List.of(
            "Щоранку сонце сходить над морем.",
            "Міська бібліотека відчиняється о дев'ятій годині.",
            "Діти граються на подвір'ї школи.",
            "Мій дідусь розповідає історії про своє село.",
            "Потяг відправляється за годину.",
            "Моя бабуся пече пиріг.",
            "Взимку гора вкрита снігом.",
            "Кава гаряча, а хліб свіжий.",
            "Студентка читає книжку з давньої історії.",
            "Рибалки повертаються до гавані до заходу сонця.",
            "У музеї показують старі картини.",
            "Ринок повний фруктів і овочів.",
            "Мій брат вивчає математику в університеті.",
            "Ми п'ємо чай з медом увечері.",
            "Кіт спить на теплому дивані.",
            "Сьогодні небо чисте і блакитне.",
            "Київ розташований на берегах Дніпра."),
            "Трамвай номер %d їде до центру.");

    static final Language BG = new Language("bg", "Bulgarian", false, List.of(
            "Всяка сутрин слънцето изгрява над морето.",
            "Градската библиотека отваря в девет часа.",
            "Децата играят в двора на училището.",
            "Дядо ми разказва истории за своето село.",
            "Влакът тръгва след един час.",
            "Баба ми пече баница.",
            "През зимата планината е покрита със сняг.",
            "Кафето е горещо, а хлябът е пресен.",
            "Студентката чете книга за древната история.",
            "Рибарите се връщат в пристанището преди залез.",
            "Музеят показва стари картини.",
            "Пазарът е пълен с плодове и зеленчуци.",
            "Брат ми учи физика в университета.",
            "Пием кафе на терасата всяка сутрин.",
            "Котката спи на топлия диван.",
            "Днес небето е ясно и синьо."),
            "Автобус номер %d спира пред гарата.");

    static final Language ZH = new Language("zh", "Chinese", true, List.of(
            "每天早上太阳从海上升起。",
            "市图书馆九点开门。",
            "孩子们在学校的操场上玩耍。",
            "我的爷爷讲他村子里的故事。",
            "火车一个小时后出发。",
            "我的奶奶正在烤馅饼。",
            "冬天山上覆盖着白雪。",
            "咖啡很热，面包很新鲜。",
            "那个学生在读一本关于古代历史的书。",
            "渔民在日落之前回到港口。",
            "博物馆展出古老的绘画。",
            "市场上有很多水果和蔬菜。",
            "今天天气很好，我们去公园散步。",
            "医生说我们应该多喝水。",
            "老师耐心地解释这个问题。",
            "秋天的树叶变成了红色和黄色。",
            "我的朋友们坐船去海边旅行。",
            "猫在温暖的窗台上睡觉。"),
            "今天的气温是%d度。");

    static final Language JA = new Language("ja", "Japanese", true, List.of(
            "毎朝、太陽が海の上に昇ります。",
            "市立図書館は九時に開きます。",
            "子供たちは校庭で遊んでいます。",
            "祖父は村の話をしてくれます。",
            "電車は一時間後に出発します。",
            "祖母はパイを焼いています。",
            "冬になると山は雪に覆われます。",
            "コーヒーは熱くて、パンは新鮮です。",
            "学生は古代の歴史の本を読んでいます。",
            "漁師たちは日が沈む前に港に戻ります。",
            "博物館では古い絵を見せています。",
            "市場は果物と野菜でいっぱいです。",
            "今日はとても良い天気です。",
            "猫が窓のそばで寝ています。",
            "駅の前に新しいカフェができました。",
            "秋には木の葉が赤や黄色に変わります。"),
            "今日の気温は%d度です。");

    static final Language KO = new Language("ko", "Korean", false, List.of(
            "매일 아침 해가 바다 위로 떠오릅니다.",
            "시립 도서관은 아홉 시에 문을 엽니다.",
            "아이들이 학교 운동장에서 놀고 있습니다.",
            "할아버지는 고향 마을 이야기를 해 주십니다.",
            "기차는 한 시간 후에 출발합니다.",
            "할머니는 파이를 굽고 계십니다.",
            "겨울에는 산이 눈으로 덮여 있습니다.",
            "커피는 뜨겁고 빵은 신선합니다.",
            "학생은 고대 역사에 관한 책을 읽고 있습니다.",
            "어부들은 해가 지기 전에 항구로 돌아옵니다.",
            "박물관에서 오래된 그림을 보여 줍니다.",
            "시장은 과일과 채소로 가득합니다.",
            "오늘은 날씨가 아주 좋습니다.",
            "고양이가 창문 옆에서 자고 있습니다."),
            "오늘 기온은 %d도입니다.");

    static final Language FR = new Language("fr", "French", false, List.of(
            "Le soleil se lève sur la mer chaque matin.",
            "La bibliothèque municipale ouvre à neuf heures.",
            "Les enfants jouent dans la cour de l'école.",
            "Mon grand-père raconte des histoires sur son village.",
            "Le train part dans une heure.",
            "Ma grand-mère fait cuire une tarte.",
            "En hiver, la montagne est couverte de neige.",
            "Le café est chaud et le pain est frais.",
            "L'étudiante lit un livre sur l'histoire ancienne.",
            "Les pêcheurs rentrent au port avant le coucher du soleil.",
            "Le musée présente de vieux tableaux.",
            "Le marché est plein de fruits et de légumes.",
            "Le médecin dit qu'il faut boire beaucoup d'eau.",
            "Aujourd'hui, le ciel est clair et bleu.",
            "Le chat dort près de la fenêtre."),
            "La température est de %d degrés aujourd'hui.");

    static final Language DE = new Language("de", "German", false, List.of(
            "Die Sonne geht jeden Morgen über dem Meer auf.",
            "Die Stadtbibliothek öffnet um neun Uhr.",
            "Die Kinder spielen auf dem Schulhof.",
            "Mein Großvater erzählt Geschichten über sein Dorf.",
            "Der Zug fährt in einer Stunde ab.",
            "Meine Großmutter backt einen Kuchen.",
            "Im Winter ist der Berg mit Schnee bedeckt.",
            "Der Kaffee ist heiß und das Brot ist frisch.",
            "Die Studentin liest ein Buch über alte Geschichte.",
            "Die Fischer kehren vor Sonnenuntergang in den Hafen zurück.",
            "Das Museum zeigt alte Gemälde.",
            "Der Markt ist voller Obst und Gemüse.",
            "Der Arzt sagt, dass wir viel Wasser trinken sollen.",
            "Heute ist der Himmel klar und blau.",
            "Die Katze schläft neben dem Fenster."),
            "Die Temperatur beträgt heute %d Grad.");

    static final Language ES = new Language("es", "Spanish", false, List.of(
            "El sol sale sobre el mar cada mañana.",
            "La biblioteca municipal abre a las nueve.",
            "Los niños juegan en el patio de la escuela.",
            "Mi abuelo cuenta historias sobre su pueblo.",
            "El tren sale dentro de una hora.",
            "Mi abuela está horneando una tarta.",
            "En invierno, la montaña está cubierta de nieve.",
            "El café está caliente y el pan está fresco.",
            "La estudiante lee un libro sobre historia antigua.",
            "Los pescadores vuelven al puerto antes del atardecer.",
            "El museo muestra cuadros antiguos.",
            "El mercado está lleno de frutas y verduras.",
            "El médico dice que hay que beber mucha agua.",
            "Hoy el cielo está despejado y azul.",
            "El gato duerme junto a la ventana."),
            "La temperatura de hoy es de %d grados.");

    /** Every non-English language by code. */
    static final Map<String, Language> ALL = Map.of("el", EL, "ru", RU, "uk", UK, "bg", BG, "zh", ZH, "ja", JA,
            "ko", KO, "fr", FR, "de", DE, "es", ES);

    /** A paragraph of 3–6 sentences of {@code lang}, sometimes with a numeric sentence. */
    static String paragraph(Language lang, DemoRandom rnd) {
        int n = rnd.between(3, 6);
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < n; i++) parts.add(rnd.pick(lang.sentences()));
        if (rnd.chance(0.5)) parts.add(rnd.nextInt(parts.size() + 1), String.format(java.util.Locale.ROOT,
                lang.numberTemplate(), rnd.between(5, 35)));
        return String.join(lang.noSpaces() ? "" : " ", parts);
    }

    /** Indices of 1–3 distinct parallel sentences, for translation chats. */
    static int[] parallelIndices(DemoRandom rnd) {
        int n = rnd.between(1, 3);
        int first = rnd.nextInt(PARALLEL_EN.size());
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = (first + i * 5) % PARALLEL_EN.size();
        return idx;
    }

    static String join(Language lang, List<String> sentences, int[] idx) {
        List<String> parts = new ArrayList<>();
        for (int i : idx) parts.add(sentences.get(i));
        return String.join(lang == null || !lang.noSpaces() ? " " : "", parts);
    }
}
