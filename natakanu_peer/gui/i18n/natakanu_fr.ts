<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr_CA">
<context>
    <name>AddKeyDialog</name>
    <message>
        <location filename="../dialogs.py" line="252"/>
        <source>Add a key</source>
        <translation>Ajouter une clé</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="254"/>
        <source>Paste the key (hexadecimal digits, or text):</source>
        <translation>Collez la clé (en chiffres hexadécimaux, ou en texte)&#xa0;:</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="256"/>
        <source>Key</source>
        <translation>Clé</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="258"/>
        <source>Share it as text, exactly as written</source>
        <translation>La partager comme texte, exactement telle qu&apos;elle est écrite</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="282"/>
        <source>The key is empty: paste it first.</source>
        <translation>La clé est vide&#xa0;: collez-la d&apos;abord.</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="285"/>
        <source>This key is too long: keys are at most 1024 bytes.</source>
        <translation>Cette clé est trop longue&#xa0;: une clé fait au plus 1024 octets.</translation>
    </message>
</context>
<context>
    <name>AddressDialog</name>
    <message>
        <location filename="../dialogs.py" line="214"/>
        <source>Add a peer by its address</source>
        <translation>Ajouter un ordinateur par son adresse</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="218"/>
        <source>When a computer of your circle is not found by itself, type its address here. The other person finds it in their window, under Settings.</source>
        <translation>Quand un ordinateur de votre cercle n&apos;est pas trouvé automatiquement, tapez son adresse ici. L&apos;autre personne la trouve dans sa fenêtre, sous Paramètres.</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="226"/>
        <source>Address</source>
        <translation>Adresse</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="241"/>
        <source>Write the address as numbers, a colon and a port: 192.168.1.20:4700.</source>
        <translation>Écrivez l&apos;adresse avec des chiffres, un deux-points et un numéro de port&#xa0;: 192.168.1.20:4700.</translation>
    </message>
</context>
<context>
    <name>InviteDialog</name>
    <message>
        <location filename="../dialogs.py" line="71"/>
        <source>Invite someone to %1</source>
        <translation>Inviter quelqu&apos;un à rejoindre %1</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="76"/>
        <source>Send this invitation to the person you invite (by message or on a USB key), or let them scan the code. Anyone who has it can join, so send it only to them.</source>
        <translation>Envoyez cette invitation à la personne que vous invitez (par message ou sur une clé USB), ou laissez-la balayer le code. Toute personne qui a cette invitation peut se joindre au cercle&#xa0;: envoyez-la donc seulement à cette personne.</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="88"/>
        <source>Invitation text</source>
        <translation>Texte de l&apos;invitation</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="91"/>
        <source>&amp;Copy the invitation</source>
        <translation>Copier l&apos;&amp;invitation</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="93"/>
        <source>Get a short &amp;code instead</source>
        <translation>Obtenir plutôt un &amp;code court</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="109"/>
        <source>Copied</source>
        <translation>Copiée</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="114"/>
        <source>Read this code to one person near you, on the same Wi-Fi: %1
It works once, for %2 minutes.</source>
        <translation>Lisez ce code à une personne près de vous, sur le même Wi-Fi&#xa0;: %1
Il fonctionne une seule fois, pendant %2 minutes.</translation>
    </message>
</context>
<context>
    <name>JoinDialog</name>
    <message>
        <location filename="../dialogs.py" line="127"/>
        <source>Join a circle</source>
        <translation>Rejoindre un cercle</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="132"/>
        <source>Paste the invitation you were sent:</source>
        <translation>Collez l&apos;invitation que vous avez reçue&#xa0;:</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="134"/>
        <source>Invitation</source>
        <translation>Invitation</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="137"/>
        <source>&amp;Invitation</source>
        <translation>&amp;Invitation</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="142"/>
        <source>Join code</source>
        <translation>Code pour rejoindre le cercle</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="143"/>
        <source>Code:</source>
        <translation>Code&#xa0;:</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="145"/>
        <source>only if it is not found by itself</source>
        <translation>seulement si l&apos;ordinateur n&apos;est pas trouvé automatiquement</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="146"/>
        <source>Member&apos;s address</source>
        <translation>Adresse du membre</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="147"/>
        <source>Member&apos;s address:</source>
        <translation>Adresse du membre&#xa0;:</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="148"/>
        <source>Short &amp;code</source>
        <translation>&amp;Code court</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="158"/>
        <source>&amp;Join</source>
        <translation>&amp;Rejoindre</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="186"/>
        <source>This invitation is not complete or was changed: copy all of it again, from NATAKANU1 to the end.</source>
        <translation>Cette invitation est incomplète ou a été modifiée&#xa0;: copiez-la de nouveau au complet, de NATAKANU1 jusqu&apos;à la fin.</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="191"/>
        <source>A code is a number and two words, like 42-river-moose: check it and type it again.</source>
        <translation>Un code est fait d&apos;un nombre et de deux mots, comme 42-river-moose&#xa0;: vérifiez-le et tapez-le de nouveau.</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="198"/>
        <source>Write the address as numbers, a colon and a port: 192.168.1.20:4700.</source>
        <translation>Écrivez l&apos;adresse avec des chiffres, un deux-points et un numéro de port&#xa0;: 192.168.1.20:4700.</translation>
    </message>
</context>
<context>
    <name>KeysModel</name>
    <message>
        <location filename="../models.py" line="151"/>
        <source>Name</source>
        <translation>Nom</translation>
    </message>
    <message>
        <location filename="../models.py" line="152"/>
        <source>Size</source>
        <translation>Taille</translation>
    </message>
    <message>
        <location filename="../models.py" line="153"/>
        <source>Shared by</source>
        <translation>Partagé par</translation>
    </message>
    <message>
        <location filename="../models.py" line="154"/>
        <source>Added</source>
        <translation>Ajouté</translation>
    </message>
    <message>
        <location filename="../models.py" line="155"/>
        <source>State</source>
        <translation>État</translation>
    </message>
    <message>
        <location filename="../models.py" line="161"/>
        <source>(name not known yet)</source>
        <translation>(nom pas encore connu)</translation>
    </message>
    <message>
        <location filename="../models.py" line="169"/>
        <source>Archive key</source>
        <translation>Clé d&apos;archive</translation>
    </message>
    <message>
        <location filename="../models.py" line="170"/>
        <source>Looking for it…</source>
        <translation>Recherche en cours…</translation>
    </message>
    <message>
        <location filename="../models.py" line="171"/>
        <source>Available</source>
        <translation>Disponible</translation>
    </message>
    <message>
        <location filename="../models.py" line="172"/>
        <source>Downloading…</source>
        <translation>Téléchargement en cours…</translation>
    </message>
    <message>
        <location filename="../models.py" line="173"/>
        <source>Paused</source>
        <translation>En pause</translation>
    </message>
    <message>
        <location filename="../models.py" line="174"/>
        <source>Saved here</source>
        <translation>Enregistré ici</translation>
    </message>
    <message>
        <location filename="../models.py" line="175"/>
        <source>Shared by me</source>
        <translation>Partagé par moi</translation>
    </message>
    <message>
        <location filename="../models.py" line="179"/>
        <source>me</source>
        <translation>moi</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../window.py" line="160"/>
        <source>&amp;Share…</source>
        <extracomment>After this long with no peer found, the status line says what to try.</extracomment>
        <translation>&amp;Partager…</translation>
    </message>
    <message>
        <location filename="../window.py" line="163"/>
        <source>Share files with your circle (you can also drop them on the window)</source>
        <translation>Partager des fichiers avec votre cercle (vous pouvez aussi les glisser dans la fenêtre)</translation>
    </message>
    <message>
        <location filename="../window.py" line="166"/>
        <source>Share a &amp;folder…</source>
        <translation>Partager un &amp;dossier…</translation>
    </message>
    <message>
        <location filename="../window.py" line="169"/>
        <source>&amp;Download</source>
        <translation>&amp;Télécharger</translation>
    </message>
    <message>
        <location filename="../window.py" line="169"/>
        <source>Save the item here</source>
        <translation>Enregistrer l&apos;élément ici</translation>
    </message>
    <message>
        <location filename="../window.py" line="171"/>
        <source>&amp;Open</source>
        <translation>&amp;Ouvrir</translation>
    </message>
    <message>
        <location filename="../window.py" line="173"/>
        <source>Show in &amp;folder</source>
        <translation>Afficher dans le &amp;dossier</translation>
    </message>
    <message>
        <location filename="../window.py" line="175"/>
        <source>&amp;Pause</source>
        <translation>Mettre en &amp;pause</translation>
    </message>
    <message>
        <location filename="../window.py" line="176"/>
        <source>&amp;Resume</source>
        <translation>&amp;Reprendre</translation>
    </message>
    <message>
        <location filename="../window.py" line="178"/>
        <source>&amp;Cancel download</source>
        <translation>&amp;Annuler le téléchargement</translation>
    </message>
    <message>
        <location filename="../window.py" line="181"/>
        <source>&amp;Copy key</source>
        <translation>&amp;Copier la clé</translation>
    </message>
    <message>
        <location filename="../window.py" line="183"/>
        <source>&amp;Add a key…</source>
        <translation>&amp;Ajouter une clé…</translation>
    </message>
    <message>
        <location filename="../window.py" line="185"/>
        <source>&amp;Delete</source>
        <translation>&amp;Supprimer</translation>
    </message>
    <message>
        <location filename="../window.py" line="187"/>
        <location filename="../window.py" line="483"/>
        <source>&amp;Hide here</source>
        <translation>&amp;Masquer ici</translation>
    </message>
    <message>
        <location filename="../window.py" line="188"/>
        <source>&amp;Invite…</source>
        <translation>&amp;Inviter…</translation>
    </message>
    <message>
        <location filename="../window.py" line="189"/>
        <source>&amp;Join a circle…</source>
        <translation>&amp;Rejoindre un cercle…</translation>
    </message>
    <message>
        <location filename="../window.py" line="191"/>
        <source>&amp;New circle…</source>
        <translation>&amp;Nouveau cercle…</translation>
    </message>
    <message>
        <location filename="../window.py" line="194"/>
        <source>Add a peer by &amp;address…</source>
        <translation>Ajouter un ordinateur par son &amp;adresse…</translation>
    </message>
    <message>
        <location filename="../window.py" line="197"/>
        <source>Se&amp;ttings…</source>
        <translation>Paramè&amp;tres…</translation>
    </message>
    <message>
        <location filename="../window.py" line="199"/>
        <source>&amp;Quit</source>
        <translation>&amp;Quitter</translation>
    </message>
    <message>
        <location filename="../window.py" line="202"/>
        <source>Actions</source>
        <translation>Actions</translation>
    </message>
    <message>
        <location filename="../window.py" line="218"/>
        <source>Circle:</source>
        <translation>Cercle&#xa0;:</translation>
    </message>
    <message>
        <location filename="../window.py" line="220"/>
        <source>Circle</source>
        <translation>Cercle</translation>
    </message>
    <message>
        <location filename="../window.py" line="225"/>
        <source>&amp;File</source>
        <translation>&amp;Fichier</translation>
    </message>
    <message>
        <location filename="../window.py" line="231"/>
        <source>&amp;Item</source>
        <translation>É&amp;lément</translation>
    </message>
    <message>
        <location filename="../window.py" line="234"/>
        <source>&amp;Circle</source>
        <translation>&amp;Cercle</translation>
    </message>
    <message>
        <location filename="../window.py" line="258"/>
        <source>Sections</source>
        <translation>Sections</translation>
    </message>
    <message>
        <location filename="../window.py" line="263"/>
        <source>Filter by name, person or key</source>
        <translation>Filtrer par nom, personne ou clé</translation>
    </message>
    <message>
        <location filename="../window.py" line="264"/>
        <source>Filter</source>
        <translation>Filtre</translation>
    </message>
    <message>
        <location filename="../window.py" line="267"/>
        <source>Show hidden</source>
        <translation>Afficher les éléments masqués</translation>
    </message>
    <message>
        <location filename="../window.py" line="272"/>
        <source>Shared items and keys</source>
        <translation>Éléments partagés et clés</translation>
    </message>
    <message>
        <location filename="../window.py" line="284"/>
        <source>Drop files or folders here to share them with your circle.</source>
        <translation>Glissez des fichiers ou des dossiers ici pour les partager avec votre cercle.</translation>
    </message>
    <message>
        <location filename="../window.py" line="288"/>
        <source>&amp;Items</source>
        <translation>Élé&amp;ments</translation>
    </message>
    <message>
        <location filename="../window.py" line="292"/>
        <source>People of the circle</source>
        <translation>Personnes du cercle</translation>
    </message>
    <message>
        <location filename="../window.py" line="306"/>
        <source>&amp;People</source>
        <translation>Perso&amp;nnes</translation>
    </message>
    <message>
        <location filename="../window.py" line="310"/>
        <source>Transfers</source>
        <translation>Transferts</translation>
    </message>
    <message>
        <location filename="../window.py" line="323"/>
        <source>Pause &amp;all</source>
        <translation>Tout mettre en pau&amp;se</translation>
    </message>
    <message>
        <location filename="../window.py" line="328"/>
        <source>&amp;Transfers</source>
        <translation>&amp;Transferts</translation>
    </message>
    <message>
        <location filename="../window.py" line="332"/>
        <source>Starting…</source>
        <translation>Démarrage…</translation>
    </message>
    <message>
        <location filename="../window.py" line="343"/>
        <source>Show the window</source>
        <translation>Afficher la fenêtre</translation>
    </message>
    <message>
        <location filename="../window.py" line="345"/>
        <source>Pause all downloads</source>
        <translation>Mettre tous les téléchargements en pause</translation>
    </message>
    <message numerus="yes">
        <location filename="../window.py" line="404"/>
        <source>%n computer(s) of %1 connected.</source>
        <translation>
            <numerusform>%n ordinateur de %1 est connecté.</numerusform>
            <numerusform>%n ordinateurs de %1 sont connectés.</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../window.py" line="407"/>
        <source>Looking for nobody on the network (discovery is off): add a peer by its address, or turn discovery on in the settings.</source>
        <translation>Aucune recherche sur le réseau (la recherche automatique est désactivée)&#xa0;: ajoutez un ordinateur par son adresse, ou activez la recherche automatique dans les paramètres.</translation>
    </message>
    <message>
        <location filename="../window.py" line="411"/>
        <source>Looking for the computers of %1 on this network…</source>
        <translation>Recherche des ordinateurs de %1 sur ce réseau…</translation>
    </message>
    <message>
        <location filename="../window.py" line="414"/>
        <source>No computer of %1 found yet. Check that you are on the same Wi-Fi, that a firewall lets Natakanu Peer through, or add a peer by its address.</source>
        <translation>Aucun ordinateur de %1 trouvé pour l&apos;instant. Vérifiez que vous êtes sur le même Wi-Fi et qu&apos;aucun pare-feu ne bloque Natakanu Peer, ou ajoutez un ordinateur par son adresse.</translation>
    </message>
    <message>
        <location filename="../window.py" line="418"/>
        <source>The chosen port was taken; another one is used.</source>
        <translation>Le port choisi était déjà pris; un autre port est utilisé.</translation>
    </message>
    <message>
        <location filename="../window.py" line="422"/>
        <source>Download complete</source>
        <translation>Téléchargement terminé</translation>
    </message>
    <message>
        <location filename="../window.py" line="422"/>
        <source>%1 is saved.</source>
        <translation>Enregistré ici&#xa0;: %1</translation>
    </message>
    <message>
        <location filename="../window.py" line="426"/>
        <source>New in your circle: %1</source>
        <translation>Nouveau dans votre cercle&#xa0;: %1</translation>
    </message>
    <message numerus="yes">
        <location filename="../window.py" line="428"/>
        <source>%n new item(s) in your circle.</source>
        <translation>
            <numerusform>%n nouvel élément dans votre cercle.</numerusform>
            <numerusform>%n nouveaux éléments dans votre cercle.</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../window.py" line="429"/>
        <source>New in your circle</source>
        <translation>Nouveau dans votre cercle</translation>
    </message>
    <message>
        <location filename="../window.py" line="438"/>
        <source>This did not work</source>
        <translation>Cela n&apos;a pas fonctionné</translation>
    </message>
    <message>
        <location filename="../window.py" line="443"/>
        <source>Something went wrong</source>
        <translation>Un problème est survenu</translation>
    </message>
    <message>
        <location filename="../window.py" line="446"/>
        <source>Natakanu Peer met an error it did not expect. Your files and shared items are safe. If it happens again, send the log file to the people who help you.</source>
        <translation>Natakanu Peer a rencontré une erreur inattendue. Vos fichiers et vos éléments partagés sont en sécurité. Si cela se reproduit, envoyez le fichier journal aux personnes qui vous aident.</translation>
    </message>
    <message>
        <location filename="../window.py" line="483"/>
        <source>S&amp;how again</source>
        <translation>Afficher de &amp;nouveau</translation>
    </message>
    <message>
        <location filename="../window.py" line="516"/>
        <source>%1 cannot be found; it may have been moved.</source>
        <translation>Impossible de trouver %1; l&apos;élément a peut-être été déplacé.</translation>
    </message>
    <message>
        <location filename="../window.py" line="525"/>
        <source>Share files</source>
        <translation>Partager des fichiers</translation>
    </message>
    <message>
        <location filename="../window.py" line="530"/>
        <source>Share a folder</source>
        <translation>Partager un dossier</translation>
    </message>
    <message>
        <location filename="../window.py" line="548"/>
        <source>%1 is no longer there; it was moved or deleted.</source>
        <translation>%1 n&apos;est plus là; l&apos;élément a été déplacé ou supprimé.</translation>
    </message>
    <message>
        <location filename="../window.py" line="573"/>
        <source>Cancel the download?</source>
        <translation>Annuler le téléchargement?</translation>
    </message>
    <message>
        <location filename="../window.py" line="574"/>
        <source>What was downloaded so far is deleted. Cancel the download?</source>
        <translation>Ce qui a déjà été téléchargé sera supprimé. Annuler le téléchargement?</translation>
    </message>
    <message>
        <location filename="../window.py" line="590"/>
        <source>Key copied.</source>
        <translation>Clé copiée.</translation>
    </message>
    <message>
        <location filename="../window.py" line="607"/>
        <source>Stop sharing?</source>
        <translation>Arrêter de partager?</translation>
    </message>
    <message>
        <location filename="../window.py" line="609"/>
        <source>Stop sharing %1 with your circle? Your files stay on this computer; the others will no longer see it in the list.</source>
        <translation>Arrêter de partager %1 avec votre cercle? Vos fichiers restent sur cet ordinateur; les autres ne le verront plus dans la liste.</translation>
    </message>
    <message>
        <location filename="../window.py" line="651"/>
        <source>Looking for the member who gave the code…</source>
        <translation>Recherche du membre qui a donné le code…</translation>
    </message>
    <message>
        <location filename="../window.py" line="659"/>
        <source>You joined %1.</source>
        <translation>Vous avez rejoint %1.</translation>
    </message>
    <message>
        <location filename="../window.py" line="664"/>
        <source>New circle</source>
        <translation>Nouveau cercle</translation>
    </message>
    <message>
        <location filename="../window.py" line="664"/>
        <source>Name of the new circle:</source>
        <translation>Nom du nouveau cercle&#xa0;:</translation>
    </message>
    <message>
        <location filename="../window.py" line="705"/>
        <location filename="../window.py" line="730"/>
        <source>Keep everything?</source>
        <translation>Tout garder?</translation>
    </message>
    <message>
        <location filename="../window.py" line="724"/>
        <source>Keeping a copy of everything the circle shares takes %1 on this computer.</source>
        <translation>Garder une copie de tout ce que le cercle partage occupe %1 sur cet ordinateur.</translation>
    </message>
    <message numerus="yes">
        <location filename="../window.py" line="728"/>
        <source>%n item(s) are not described yet and will take more.</source>
        <translation>
            <numerusform>%n élément n&apos;est pas encore décrit et demandera plus d&apos;espace.</numerusform>
            <numerusform>%n éléments ne sont pas encore décrits et demanderont plus d&apos;espace.</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../window.py" line="778"/>
        <source>Still sharing</source>
        <translation>Le partage continue</translation>
    </message>
    <message>
        <location filename="../window.py" line="780"/>
        <source>Natakanu Peer keeps sharing with your circle from the tray. To stop it, choose Quit in the tray&apos;s menu.</source>
        <translation>Natakanu Peer continue de partager avec votre cercle depuis la zone de notification. Pour l&apos;arrêter, choisissez Quitter dans le menu de la zone de notification.</translation>
    </message>
</context>
<context>
    <name>NodeBridge</name>
    <message>
        <location filename="../bridge.py" line="168"/>
        <source>The peer is still starting; try again in a moment.</source>
        <translation>Natakanu Peer est encore en train de démarrer; réessayez dans un instant.</translation>
    </message>
</context>
<context>
    <name>PeersModel</name>
    <message>
        <location filename="../models.py" line="281"/>
        <source>Name</source>
        <translation>Nom</translation>
    </message>
    <message>
        <location filename="../models.py" line="282"/>
        <source>Id</source>
        <translation>Identifiant</translation>
    </message>
    <message>
        <location filename="../models.py" line="283"/>
        <source>Address</source>
        <translation>Adresse</translation>
    </message>
    <message>
        <location filename="../models.py" line="284"/>
        <source>Online</source>
        <translation>En ligne</translation>
    </message>
    <message>
        <location filename="../models.py" line="285"/>
        <source>Exchanging</source>
        <translation>Échanges</translation>
    </message>
    <message>
        <location filename="../models.py" line="291"/>
        <source>(no name)</source>
        <translation>(sans nom)</translation>
    </message>
    <message>
        <location filename="../models.py" line="300"/>
        <source>Refused for a while</source>
        <translation>Refusé pour l&apos;instant</translation>
    </message>
    <message>
        <location filename="../models.py" line="302"/>
        <source>Online now</source>
        <translation>En ligne maintenant</translation>
    </message>
    <message>
        <location filename="../models.py" line="303"/>
        <source>Last seen %1</source>
        <translation>Vu pour la dernière fois&#xa0;: %1</translation>
    </message>
    <message>
        <location filename="../models.py" line="315"/>
        <source>receiving</source>
        <translation>réception en cours</translation>
    </message>
    <message>
        <location filename="../models.py" line="317"/>
        <source>%1 received</source>
        <translation>%1 reçus</translation>
    </message>
    <message>
        <location filename="../models.py" line="319"/>
        <source>%1 sent</source>
        <translation>%1 envoyés</translation>
    </message>
    <message>
        <location filename="../models.py" line="320"/>
        <source>in touch</source>
        <translation>en contact</translation>
    </message>
</context>
<context>
    <name>QrCode</name>
    <message>
        <location filename="../dialogs.py" line="44"/>
        <source>QR code of the invitation</source>
        <translation>Code QR de l&apos;invitation</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../dialogs.py" line="301"/>
        <source>Settings</source>
        <translation>Paramètres</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="307"/>
        <source>Your name</source>
        <translation>Votre nom</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="308"/>
        <source>Your &amp;name, as others see it:</source>
        <translation>Votre &amp;nom, tel que les autres le voient&#xa0;:</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="311"/>
        <location filename="../dialogs.py" line="367"/>
        <source>Downloads folder</source>
        <translation>Dossier des téléchargements</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="312"/>
        <source>&amp;Choose…</source>
        <translation>&amp;Choisir…</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="316"/>
        <source>&amp;Downloads folder:</source>
        <translation>Dossier des &amp;téléchargements&#xa0;:</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="320"/>
        <source>Language</source>
        <translation>Langue</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="322"/>
        <source>Same as the system</source>
        <translation>Langue du système</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="328"/>
        <source>&amp;Language:</source>
        <translation>&amp;Langue&#xa0;:</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="329"/>
        <source>Start hidden in the tray</source>
        <translation>Démarrer réduit dans la zone de notification</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="335"/>
        <source>Listening port</source>
        <translation>Port d&apos;écoute</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="336"/>
        <source>Listening &amp;port:</source>
        <translation>&amp;Port d&apos;écoute&#xa0;:</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="337"/>
        <source>Find the circle&apos;s computers on this network by itself</source>
        <translation>Trouver automatiquement les ordinateurs du cercle sur ce réseau</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="340"/>
        <source>Keep a copy of everything the circle shares</source>
        <translation>Garder une copie de tout ce que le cercle partage</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="347"/>
        <source>This computer&apos;s address:</source>
        <translation>Adresse de cet ordinateur&#xa0;:</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="348"/>
        <source>The language, port and discovery change at the next start.</source>
        <translation>Les changements de langue, de port et de recherche automatique s&apos;appliquent au prochain démarrage.</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="388"/>
        <source>Choose the downloads folder with the Choose… button.</source>
        <translation>Choisissez le dossier des téléchargements avec le bouton «&#xa0;Choisir…&#xa0;».</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="391"/>
        <source>Choose a port from 1024 to 65535, or 0 for any free port.</source>
        <translation>Choisissez un port de 1024 à 65535, ou 0 pour n&apos;importe quel port libre.</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="394"/>
        <source>Write your name on one line.</source>
        <translation>Écrivez votre nom sur une seule ligne.</translation>
    </message>
</context>
<context>
    <name>Text</name>
    <message>
        <location filename="../text.py" line="19"/>
        <source>B</source>
        <translation>o</translation>
    </message>
    <message>
        <location filename="../text.py" line="19"/>
        <source>kB</source>
        <translation>ko</translation>
    </message>
    <message>
        <location filename="../text.py" line="19"/>
        <source>MB</source>
        <translation>Mo</translation>
    </message>
    <message>
        <location filename="../text.py" line="19"/>
        <source>GB</source>
        <translation>Go</translation>
    </message>
    <message>
        <location filename="../text.py" line="19"/>
        <source>TB</source>
        <translation>To</translation>
    </message>
    <message>
        <location filename="../text.py" line="22"/>
        <source>%1/s</source>
        <translation>%1/s</translation>
    </message>
    <message numerus="yes">
        <location filename="../text.py" line="25"/>
        <source>%n second(s)</source>
        <translation>
            <numerusform>%n seconde</numerusform>
            <numerusform>%n secondes</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../text.py" line="28"/>
        <source>%n minute(s)</source>
        <translation>
            <numerusform>%n minute</numerusform>
            <numerusform>%n minutes</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../text.py" line="31"/>
        <source>%n hour(s)</source>
        <translation>
            <numerusform>%n heure</numerusform>
            <numerusform>%n heures</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../text.py" line="34"/>
        <source>just now</source>
        <translation>à l&apos;instant</translation>
    </message>
    <message numerus="yes">
        <location filename="../text.py" line="37"/>
        <source>%n minute(s) ago</source>
        <translation>
            <numerusform>il y a %n minute</numerusform>
            <numerusform>il y a %n minutes</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../text.py" line="40"/>
        <source>%n hour(s) ago</source>
        <translation>
            <numerusform>il y a %n heure</numerusform>
            <numerusform>il y a %n heures</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../text.py" line="43"/>
        <source>yesterday</source>
        <translation>hier</translation>
    </message>
    <message>
        <location filename="../text.py" line="46"/>
        <source>%1 left</source>
        <translation>il reste %1</translation>
    </message>
    <message>
        <location filename="../text.py" line="49"/>
        <source>Starting…</source>
        <translation>Démarrage…</translation>
    </message>
</context>
<context>
    <name>TransfersModel</name>
    <message>
        <location filename="../models.py" line="329"/>
        <source>Name</source>
        <translation>Nom</translation>
    </message>
    <message>
        <location filename="../models.py" line="329"/>
        <source>Progress</source>
        <translation>Progression</translation>
    </message>
    <message>
        <location filename="../models.py" line="329"/>
        <source>State</source>
        <translation>État</translation>
    </message>
    <message>
        <location filename="../models.py" line="334"/>
        <source>(name not known yet)</source>
        <translation>(nom pas encore connu)</translation>
    </message>
    <message>
        <location filename="../models.py" line="340"/>
        <source>%1 of %2</source>
        <translation>%1 sur %2</translation>
    </message>
    <message>
        <location filename="../models.py" line="347"/>
        <source>Preparing to share: %1</source>
        <translation>Préparation du partage&#xa0;: %1</translation>
    </message>
    <message>
        <location filename="../models.py" line="349"/>
        <source>Paused</source>
        <translation>En pause</translation>
    </message>
    <message>
        <location filename="../models.py" line="351"/>
        <source>Looking for someone who has it…</source>
        <translation>Recherche de quelqu&apos;un qui l&apos;a…</translation>
    </message>
</context>
</TS>
