<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en">
<context>
    <name>MainWindow</name>
    <message numerus="yes">
        <location filename="../window.py" line="404"/>
        <source>%n computer(s) of %1 connected.</source>
        <translation>
            <numerusform>%n computer of %1 connected.</numerusform>
            <numerusform>%n computers of %1 connected.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../window.py" line="428"/>
        <source>%n new item(s) in your circle.</source>
        <translation>
            <numerusform>%n new item in your circle.</numerusform>
            <numerusform>%n new items in your circle.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../window.py" line="728"/>
        <source>%n item(s) are not described yet and will take more.</source>
        <translation>
            <numerusform>%n item is not described yet and will take more.</numerusform>
            <numerusform>%n items are not described yet and will take more.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Text</name>
    <message numerus="yes">
        <location filename="../text.py" line="25"/>
        <source>%n second(s)</source>
        <translation>
            <numerusform>%n second</numerusform>
            <numerusform>%n seconds</numerusform>
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
            <numerusform>%n hour</numerusform>
            <numerusform>%n hours</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../text.py" line="37"/>
        <source>%n minute(s) ago</source>
        <translation>
            <numerusform>%n minute ago</numerusform>
            <numerusform>%n minutes ago</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../text.py" line="40"/>
        <source>%n hour(s) ago</source>
        <translation>
            <numerusform>%n hour ago</numerusform>
            <numerusform>%n hours ago</numerusform>
        </translation>
    </message>
</context>
</TS>
